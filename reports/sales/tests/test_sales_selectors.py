"""The figures read from the sales facts: headlines for the dashboards and the reports' grouped rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from logistics.tests.returns_factories import shipped_order
from orders.models import Channel, SalesOrder
from reports.sales.facts import sales_facts_rebuild
from reports.sales.selectors import SalesFilters, margin_grouped, sales_figures, sales_grouped, sales_series
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SH", priority=1)


@pytest.fixture
def tea(warehouse):
    return stocked_product(
        stock={warehouse: 100}, sku="TEA-250", name="龙井", category="茶叶", list_price=Decimal("200.00"), cost=Decimal("120.00")
    )


@pytest.fixture
def cups(warehouse):
    return stocked_product(
        stock={warehouse: 100}, sku="CUP-350", name="保温杯", category="杯壶", list_price=Decimal("50.00"), cost=Decimal("20.00")
    )


@pytest.fixture
def alice(make_user):
    return make_user("sales", username="alice")


@pytest.fixture
def bob(make_user):
    return make_user("sales", username="bob")


def test_sales_figures_sum_a_period_and_one_salespersons_share(tea, cups, alice, bob):
    approved_order(lines=[(tea, 1), (cups, 2)], by=alice, approved_at=at(date(2026, 5, 3)))  # 300 net
    approved_order(lines=[(tea, 3)], by=bob, approved_at=at(date(2026, 5, 20)))  # 600 net
    approved_order(lines=[(tea, 5)], by=alice, approved_at=at(date(2026, 6, 1)))  # outside
    sales_facts_rebuild()

    with count_queries() as queries:
        everyone = sales_figures(start=date(2026, 5, 1), end=date(2026, 5, 31))
    mine = sales_figures(start=date(2026, 5, 1), end=date(2026, 5, 31), salesperson_id=alice.pk)

    assert len(queries.captured_queries) == 2
    assert (everyone.net, everyone.orders, everyone.lines, everyone.gross) == (Decimal("900.00"), 2, 3, Decimal("1017.00"))
    assert everyone.average_order_value == Decimal("450.00")
    assert (mine.net, mine.orders, mine.tax) == (Decimal("300.00"), 1, Decimal("39.00"))


def test_sales_figures_of_an_empty_period_are_zero():
    nothing = sales_figures(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert (nothing.net, nothing.orders, nothing.margin) == (Decimal("0"), 0, Decimal("0"))
    assert nothing.average_order_value is None and nothing.margin_rate is None


def test_the_margin_headline_counts_what_shipped(tea, warehouse, make_user, alice):
    shipped_order(lines=[(tea, 2)], warehouse=warehouse, clerk=make_user("warehouse"), salesperson=alice)
    sales_facts_rebuild()
    today = SalesOrder.objects.get().approved_at.astimezone(SHANGHAI).date()

    figures = sales_figures(start=today, end=today, salesperson_id=alice.pk)

    assert (figures.shipped_net, figures.cost, figures.margin) == (Decimal("400.00"), Decimal("240.00"), Decimal("160.00"))
    assert figures.margin_rate == Decimal("0.4")


def test_the_series_has_every_bucket_of_the_period(tea, alice):
    approved_order(lines=[(tea, 1)], by=alice, approved_at=at(date(2026, 5, 3)))
    approved_order(lines=[(tea, 2)], by=alice, approved_at=at(date(2026, 7, 9)))
    sales_facts_rebuild()

    series = sales_series(start=date(2026, 5, 1), end=date(2026, 7, 31), grain="month")

    assert series == [
        (date(2026, 5, 1), Decimal("200.00")),
        (date(2026, 6, 1), Decimal("0")),
        (date(2026, 7, 1), Decimal("400.00")),
    ]


def test_sales_grouped_by_each_dimension(tea, cups, alice, bob, warehouse):
    retail = CustomerFactory(name="零售客户", segment=Customer.Segment.RETAIL)
    approved_order(lines=[(tea, 1), (cups, 2)], by=alice, customer=retail, approved_at=at(date(2026, 5, 3)))
    approved_order(lines=[(tea, 3)], by=bob, approved_at=at(date(2026, 5, 4)))
    SalesOrder.objects.filter(created_by=bob).update(channel=Channel.WEB_SHOP)
    sales_facts_rebuild()
    period = {"grain": "day", "start": date(2026, 5, 1), "end": date(2026, 5, 31), "filters": SalesFilters()}

    def table(dimension, **changes):
        rows = sales_grouped(dimension=dimension, **{**period, **changes})
        return [(row.label, row.values.get("orders"), row.values["net"]) for row in rows]

    assert table("product") == [("TEA-250 龙井", 2, Decimal("800.00")), ("CUP-350 保温杯", 1, Decimal("100.00"))]
    assert table("category") == [("茶叶", None, Decimal("800.00")), ("杯壶", None, Decimal("100.00"))]
    assert table("segment")[0] == ("Wholesale", 1, Decimal("600.00"))
    assert table("segment")[1] == ("Retail", 1, Decimal("300.00"))
    assert table("channel") == [("Web shop", 1, Decimal("600.00")), ("Phone", 1, Decimal("300.00"))]
    assert table("salesperson") == [("bob", 1, Decimal("600.00")), ("alice", 1, Decimal("300.00"))]
    assert table("warehouse") == [("Not allocated yet", None, Decimal("900.00"))]
    assert table("customer")[1] == (f"零售客户 ({retail.code})", 1, Decimal("300.00"))
    by_day = table("period", start=date(2026, 5, 2), end=date(2026, 5, 5))
    assert by_day == [
        ("2026-05-02", 0, 0),
        ("2026-05-03", 1, Decimal("300.00")),
        ("2026-05-04", 1, Decimal("600.00")),
        ("2026-05-05", 0, 0),
    ]
    assert table("period", filters=SalesFilters(salesperson_id=alice.pk), grain="month") == [("2026-05", 1, Decimal("300.00"))]
    assert table("customer", filters=SalesFilters(category="杯壶")) == [(f"零售客户 ({retail.code})", None, Decimal("100.00"))]


def test_margin_grouped_puts_the_largest_margin_first(tea, cups, warehouse, make_user, alice):
    clerk = make_user("warehouse")
    shipped_order(lines=[(tea, 1), (cups, 5)], warehouse=warehouse, clerk=clerk, salesperson=alice)
    sales_facts_rebuild()
    today = SalesOrder.objects.get().approved_at.astimezone(SHANGHAI).date()

    rows = margin_grouped(dimension="product", grain="day", start=today, end=today, filters=SalesFilters())

    assert [(row.label, row.values["net"], row.values["cost"]) for row in rows] == [
        ("CUP-350 保温杯", Decimal("250.00"), Decimal("100.00")),
        ("TEA-250 龙井", Decimal("200.00"), Decimal("120.00")),
    ]

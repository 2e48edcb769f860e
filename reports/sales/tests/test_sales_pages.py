"""The Sales and Margin report pages: who may read them, what a salesperson sees, each grouping, the
comparison, the exports (CSV, XLSX, PDF), both languages and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from logistics.tests.returns_factories import shipped_order
from orders.models import SalesOrder
from reports.sales.facts import sales_facts_rebuild
from reports.sales.selectors import DIMENSIONS
from tests.downloads import body
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY = {"start": "2026-05-01", "end": "2026-05-31"}


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SH", name="上海仓", priority=1)


@pytest.fixture
def tea(warehouse):
    return stocked_product(
        stock={warehouse: 100},
        sku="TEA-250",
        name="西湖龙井",
        category="茶叶",
        list_price=Decimal("200.00"),
        cost=Decimal("120.00"),
    )


@pytest.fixture
def alice(make_user):
    return make_user("sales", username="alice")


@pytest.fixture
def bob(make_user):
    return make_user("sales", username="bob")


@pytest.fixture
def may_sales(tea, alice, bob):
    """Alice sold 1 tea on 3 May 2026 (200.00 net), Bob 3 on 20 May (600.00); Bob 2 in May 2025 (400.00)."""
    approved_order(lines=[(tea, 1)], by=alice, approved_at=at(date(2026, 5, 3)))
    approved_order(lines=[(tea, 3)], by=bob, approved_at=at(date(2026, 5, 20)))
    approved_order(lines=[(tea, 2)], by=bob, approved_at=at(date(2025, 5, 11)))
    sales_facts_rebuild()


def page(client, name: str, **query):
    return client.get(reverse(f"reports:{name}"), query)


@pytest.mark.parametrize(
    ("role", "sales", "margins"),
    [("sales", 200, 403), ("manager", 200, 200), ("warehouse", 403, 403), ("finance", 403, 403), ("reviewer", 403, 403)],
)
def test_who_may_read_the_sales_and_margin_reports(client_as, role, sales, margins):
    client = client_as(role)
    assert page(client, "sales").status_code == sales
    assert page(client, "margins").status_code == margins


def test_a_manager_sees_everyones_sales_with_the_rule_of_what_counts(client_as, may_sales):
    response = page(client_as("manager"), "sales", **MAY, grain="month")
    text = response.content.decode()
    assert response.status_code == 200
    assert "800.00" in text and "2026-05" in text
    assert "orders approved in the period" in text
    assert '<img class="chart"' in text and "Data as of" in text
    assert 'name="salesperson"' in text


def test_a_salesperson_sees_only_their_own_figures_whatever_the_query_asks(client, alice, bob, may_sales):
    client.force_login(alice)
    text = page(client, "sales", **MAY, grain="month", salesperson=bob.pk, dimension="salesperson").content.decode()
    assert "200.00" in text and "600.00" not in text and "800.00" not in text
    assert "Only your own orders are counted." in text
    assert 'name="salesperson"' not in text


@pytest.mark.parametrize("dimension", [key for key, _label in DIMENSIONS])
def test_every_grouping_shows_its_rows(client_as, may_sales, dimension):
    text = page(client_as("manager"), "sales", **MAY, dimension=dimension).content.decode()
    assert "800.00" in text  # the total of May
    assert "No figures for this period" not in text


def test_grouped_by_product_the_rows_link_to_the_product(client_as, may_sales, tea):
    text = page(client_as("manager"), "sales", **MAY, dimension="product").content.decode()
    assert reverse("inventory:product_detail", args=[tea.pk]) in text and "TEA-250 西湖龙井" in text


def test_the_same_period_last_year_is_compared(client_as, may_sales):
    text = page(client_as("manager"), "sales", **MAY, grain="month", compare="last_year").content.decode()
    assert "400.00" in text  # May 2025
    assert "+100.0 %" in text  # 800 against 400


def test_an_empty_period_says_so(client_as, may_sales):
    text = page(client_as("manager"), "sales", start="2024-01-01", end="2024-01-31").content.decode()
    assert "No figures for this period and these filters." in text and "<table" not in text


def test_a_bad_filter_is_an_error_on_the_page_not_a_server_error(client_as, may_sales):
    client = client_as("manager")
    response = page(client, "sales", start="2026-05-31", end="2026-05-01", dimension="galaxy", warehouse="x")
    text = response.content.decode()
    assert response.status_code == 200
    assert "The end of the period is before its start." in text and "galaxy is not one of the available choices" in text
    assert page(client, "sales", start="yesterday", format="xlsx").status_code == 400


def test_csv_export_holds_every_row_and_the_total(client_as, may_sales):
    response = page(client_as("manager"), "sales", **MAY, dimension="salesperson", format="csv")
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Salesperson", "Orders", "Lines"]
    assert [row[0] for row in rows[1:]] == ["bob", "alice", "Total"]
    assert rows[-1][1:3] == ["2", "2"] and "800.00" in rows[-1]


def test_xlsx_export_keeps_money_as_numbers(client_as, may_sales):
    response = page(client_as("manager"), "sales", **MAY, grain="month", format="xlsx")
    sheet = load_workbook(io.BytesIO(body(response))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Period" and values[1][0] == "2026-05"
    net = values[0].index("Net revenue")
    assert values[1][net] == pytest.approx(800.0)


def test_pdf_has_the_title_the_rows_and_the_chart_in_chinese(client_as, may_sales):
    from pypdf import PdfReader

    client = client_as("manager")
    response = client.get(
        reverse("reports:sales"), {**MAY, "dimension": "category", "format": "pdf"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "销售报表" in text and "茶叶" in text


def test_the_page_in_chinese(client_as, may_sales):
    text = (
        client_as("manager")
        .get(reverse("reports:sales"), {**MAY, "grain": "month"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "销售报表" in text and "不含税销售额" in text and "已批准" in text


def test_the_margin_report_counts_shipped_goods_at_their_cost(client_as, tea, warehouse, alice, make_user):
    shipped_order(lines=[(tea, 2)], warehouse=warehouse, clerk=make_user("warehouse"), salesperson=alice)
    sales_facts_rebuild()
    today = SalesOrder.objects.get().approved_at.astimezone(SHANGHAI).date().isoformat()

    text = page(client_as("manager"), "margins", start=today, end=today, dimension="warehouse").content.decode()

    assert "SH 上海仓" in text and "400.00" in text and "240.00" in text and "160.00" in text and "40.0 %" in text
    assert "as the stock ledger recorded it" in text


@pytest.mark.parametrize(("name", "expected"), [("sales", 12), ("margins", 11)])
def test_the_page_takes_the_same_number_of_queries_whatever_the_rows(client_as, tea, alice, name, expected):
    client = client_as("manager")
    page(client, name, **MAY, dimension="customer")  # warm up (sessions, permissions)

    def queries():
        with count_queries() as counted:
            assert page(client, name, **MAY, dimension="customer", compare="previous").status_code == 200
        return len(counted.captured_queries)

    approved_order(lines=[(tea, 1)], by=alice, approved_at=at(date(2026, 5, 3)))
    sales_facts_rebuild()
    few = queries()
    for day in (4, 5, 6, 7):
        approved_order(lines=[(tea, day)], by=alice, approved_at=at(date(2026, 5, day)))
    sales_facts_rebuild()
    assert queries() == few
    # Session, user, permissions (one statement, own and groups'), the category, warehouse and salesperson
    # choices, the period (May, from the monthly rollup), its customers' names, the comparison period (31 March
    # from the facts, April from the rollup; it has no customers to name), data as of, the unread notifications.
    # Nothing shipped: the margin has no customers to name either.
    assert few == expected

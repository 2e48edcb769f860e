"""The dashboard's and the homes' cached figures: reused until a snapshot they come from is refreshed, never
shared between readers of different scopes, never kept while a rebuild holds their tables."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from reports import charts
from reports.cycles.refresh import cycles_rebuild, cycles_refresh_orders
from reports.cycles.tests.factories import timeline_order
from reports.dashboard import cache as figure_cache
from reports.dashboard import selectors, sources
from reports.dashboard.figures import CachedFigures
from reports.dashboard.selectors import SmallChart
from reports.sales.facts import sales_facts_rebuild, sales_facts_refresh_orders
from tests.queries import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea():
    warehouse = WarehouseFactory(code="SH", priority=1)
    return stocked_product(stock={warehouse: 1000}, sku="TEA-1", list_price=Decimal("200.00"), cost=Decimal("120.00"))


def month_revenue(body: str) -> str:
    """The month's net revenue as the dashboard shows it (the first figure of its month section)."""
    month = body[body.index('id="month-head"') :]
    return re.search(r'<div class="value">([^<]*)<', month).group(1)


def counting(monkeypatch, name: str) -> list:
    """Count the calls of one of the dashboard's sources (still answering as before)."""
    calls: list = []
    real = getattr(sources, name)

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(sources, name, spy)
    return calls


def test_the_dashboard_reuses_its_month_figures_until_the_sales_facts_are_refreshed(client_as, make_user, tea, monkeypatch):
    seller = make_user("sales")
    approved_order(lines=[(tea, 2)], by=seller, approved_at=timezone.now())  # 400 net
    sales_facts_rebuild()
    client = client_as("manager")
    calls = counting(monkeypatch, "sales_totals")

    assert month_revenue(client.get(reverse("reports:dashboard")).content.decode()) == "400.00"
    computed = len(calls)
    # Today and the month to date; on the first of the month they are one period, computed once.
    assert computed == (1 if timezone.localdate().day == 1 else 2)
    assert month_revenue(client.get(reverse("reports:dashboard")).content.decode()) == "400.00"
    assert len(calls) == computed  # the second page read them from the cache

    order = approved_order(lines=[(tea, 3)], by=seller, approved_at=timezone.now())  # 600 net more
    sales_facts_refresh_orders(order_ids=[order.pk])  # what the report batch does after the approval
    assert month_revenue(client.get(reverse("reports:dashboard")).content.decode()) == "1,000.00"
    assert len(calls) == computed * 2


def test_the_manager_home_reuses_the_figures_the_dashboard_computed(client_as, make_user, tea, monkeypatch):
    approved_order(lines=[(tea, 2)], by=make_user("sales"), approved_at=timezone.now())
    sales_facts_rebuild()
    cycles_rebuild()
    client = client_as("manager")
    client.get(reverse("reports:dashboard"))
    sales_calls, risk_calls = counting(monkeypatch, "sales_totals"), counting(monkeypatch, "orders_at_risk")
    body = client.get(reverse("home")).content.decode()
    assert 'data-role="manager"' in body and "400.00" in body
    assert sales_calls == [] and risk_calls == []


def test_a_cycles_refresh_changes_the_cached_count_of_orders_at_risk(client_as, make_user):
    seller = make_user("sales")
    now, today = timezone.now(), timezone.localdate()

    def late_order():
        return timeline_order(
            by=seller,
            steps=[("submitted", now - timedelta(hours=5)), ("allocated", now - timedelta(hours=4))],
            requested_date=today - timedelta(days=2),
        )

    late_order()
    cycles_rebuild()
    client = client_as("manager")
    at_risk = re.compile(r"Orders at risk</a></div>\s*<div class=\"value\">(\d+)<")
    assert at_risk.search(client.get(reverse("reports:dashboard")).content.decode()).group(1) == "1"
    second = late_order()
    assert at_risk.search(client.get(reverse("reports:dashboard")).content.decode()).group(1) == "1"  # not refreshed yet
    cycles_refresh_orders(order_ids=[second.pk])
    assert at_risk.search(client.get(reverse("reports:dashboard")).content.decode()).group(1) == "2"


def test_orders_at_risk_are_counted_again_in_the_next_time_slot(make_user, monkeypatch):
    timeline_order(by=make_user("sales"), steps=[("submitted", timezone.now() - timedelta(hours=1))])
    cycles_rebuild()
    calls = counting(monkeypatch, "orders_at_risk")
    CachedFigures(scope=None).orders_at_risk()
    CachedFigures(scope=None).orders_at_risk()
    assert len(calls) == 1
    later = figure_cache.risk_slot() + 1
    monkeypatch.setattr("reports.dashboard.cache.risk_slot", lambda now=None: later)
    CachedFigures(scope=None).orders_at_risk()
    assert len(calls) == 2


def test_each_salesperson_home_shows_their_own_cached_figures(client_as, make_user, tea):
    seller, other = make_user("sales"), make_user("sales")
    approved_order(lines=[(tea, 2)], by=seller, approved_at=timezone.now())  # 400 net
    approved_order(lines=[(tea, 30)], by=other, approved_at=timezone.now())  # 6,000 net
    sales_facts_rebuild()
    cycles_rebuild()
    manager = client_as("manager")
    assert month_revenue(manager.get(reverse("reports:dashboard")).content.decode()) == "6,400.00"  # everyone's, cached
    for user, own, others in [(seller, "400.00", "6,000.00"), (other, "6,000.00", "400.00"), (seller, "400.00", "6,000.00")]:
        client = Client()
        client.force_login(user)
        body = client.get(reverse("home")).content.decode()
        revenue = re.search(r"My revenue \(net\)</a></span>\s*<span class=\"home-figure-value\">([^<]*)<", body).group(1)
        assert revenue == own and others not in body and "6,400.00" not in body


def test_a_salesperson_scope_is_part_of_the_key(make_user, tea):
    seller, other = make_user("sales"), make_user("sales")
    approved_order(lines=[(tea, 2)], by=seller, approved_at=timezone.now())
    sales_facts_rebuild()
    today = timezone.localdate()
    assert CachedFigures(scope=seller.pk).sales_totals(start=today, end=today).revenue == Decimal("400.00")
    assert CachedFigures(scope=other.pk).sales_totals(start=today, end=today).revenue == Decimal("0")
    assert CachedFigures(scope=None).sales_totals(start=today, end=today).revenue == Decimal("400.00")


def test_figures_held_by_a_rebuild_are_not_kept_as_a_dash(client_as, make_user, tea, monkeypatch):
    approved_order(lines=[(tea, 2)], by=make_user("sales"), approved_at=timezone.now())
    sales_facts_rebuild()
    client = client_as("manager")
    real = selectors.snapshot_read
    # The first page finds every table held, as while a nightly rebuild's TRUNCATE holds them.
    monkeypatch.setattr(selectors, "snapshot_read", lambda read, *, default, **kwargs: default)
    held = client.get(reverse("reports:dashboard")).content.decode()
    assert "Being rebuilt right now" in held and month_revenue(held) != "400.00"
    monkeypatch.setattr(selectors, "snapshot_read", real)
    shown = client.get(reverse("reports:dashboard")).content.decode()
    assert "Being rebuilt right now" not in shown and month_revenue(shown) == "400.00"


def test_a_chart_is_drawn_once_for_the_same_figures_and_language(monkeypatch):
    drawn: list = []
    real = charts.chart_svg

    def spy(**drawing):
        drawn.append(drawing)
        return real(**drawing)

    monkeypatch.setattr("reports.dashboard.selectors.chart_svg", spy)

    def chart(values):
        return SmallChart(kind="bar", title="Revenue", labels=["1", "2"], series=[("Net", values)], money=True)

    first = chart([Decimal("1.00"), Decimal("2.00")]).svg
    assert chart([Decimal("1.00"), Decimal("2.00")]).svg == first and len(drawn) == 1
    assert chart([Decimal("1.00"), Decimal("3.00")]).svg != first and len(drawn) == 2
    with override("zh-hans"):
        chart([Decimal("1.00"), Decimal("2.00")]).svg  # noqa: B018 - drawn again in the other language
    assert len(drawn) == 3


def test_a_cached_dashboard_asks_fewer_queries_than_a_computed_one(client_as, make_user, tea):
    approved_order(lines=[(tea, 2)], by=make_user("sales"), approved_at=timezone.now())
    sales_facts_rebuild()
    cycles_rebuild()
    client = client_as("manager")
    computed = queries_for(lambda: client.get(reverse("reports:dashboard")))
    cached = queries_for(lambda: client.get(reverse("reports:dashboard")))
    assert cached < computed

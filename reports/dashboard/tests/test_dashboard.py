"""The manager dashboard and the figures on the sales, warehouse and finance homes."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing.tests.receivables_factories import issued_invoice
from customers.tests.factories import CustomerFactory
from inventory.models import LowStockAlert
from inventory.tests.factories import ProductFactory, WarehouseFactory, approved_order, stocked_product
from reports.cycles.refresh import cycles_rebuild
from reports.cycles.tests.factories import timeline_order
from reports.dashboard import sources
from reports.receivables.snapshot import receivables_refresh
from reports.sales.facts import sales_facts_rebuild
from reports.sales.models import SalesTotals
from tests.queries import queries_for

pytestmark = pytest.mark.django_db


def overdue_invoice(*, gross: str, salesperson=None):
    today = timezone.localdate()
    customer = CustomerFactory(salesperson=salesperson)
    invoice = issued_invoice(
        customer=customer, gross=gross, issued_on=today - timedelta(days=45), due_date=today - timedelta(days=15)
    )
    receivables_refresh()
    return invoice


def stock_alert():
    return LowStockAlert.objects.create(product=ProductFactory(), warehouse=WarehouseFactory(), available=1, safety_stock=9)


def test_a_manager_sees_today_and_the_month_with_charts_and_links(client_as):
    overdue_invoice(gross="2500.00")
    response = client_as("manager").get(reverse("reports:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Today" in body and "Month to date" in body
    assert "Overdue receivables" in body and "2,500.00" in body
    assert 'class="chart"' in body and "Receivables by age" in body
    assert reverse("reports:nightly_list") in body  # links into the reports that exist


def test_the_dashboard_reads_in_chinese(client_as):
    client = client_as("manager")
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("reports:dashboard"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "本月至今" in body and "逾期应收账款" in body


@pytest.mark.parametrize("role", ["sales", "warehouse", "finance", "reviewer"])
def test_only_managers_open_the_dashboard(client_as, role):
    assert client_as(role).get(reverse("reports:dashboard")).status_code == 403


def test_the_dashboard_asks_as_many_queries_however_many_invoices_and_alerts(client_as):
    client = client_as("manager")
    overdue_invoice(gross="10.00")
    stock_alert()
    client.get(reverse("reports:dashboard"))  # what is read once and cached (settings, billing's open amounts) is read
    one = queries_for(lambda: client.get(reverse("reports:dashboard")))
    for _ in range(5):
        overdue_invoice(gross="10.00")
        stock_alert()
    assert queries_for(lambda: client.get(reverse("reports:dashboard"))) == one


# --- home figures ---------------------------------------------------------------------------------------------------


def test_finance_home_shows_the_receivables_beside_its_queues(client_as):
    overdue_invoice(gross="1200.00")
    body = client_as("finance").get(reverse("home")).content.decode()
    assert 'data-role="finance"' in body and "Overdue receivables" in body and "1,200.00" in body
    assert "DSO" in body and "Money received" in body


def test_sales_home_shows_only_their_own_customers_overdue_money(client_as, make_user):
    client = client_as("sales")
    overdue_invoice(gross="300.00", salesperson=client.user)
    overdue_invoice(gross="7000.00", salesperson=make_user("sales"))
    body = client.get(reverse("home")).content.decode()
    assert "Overdue, my customers" in body and "300.00" in body and "7,000.00" not in body


def test_warehouse_home_counts_the_stock_alerts(client_as):
    for _ in range(3):
        stock_alert()
    body = client_as("warehouse").get(reverse("home")).content.decode()
    assert 'data-role="warehouse"' in body and "Stock alerts" in body
    assert "Products out of stock" in body and "Stock value" in body


def test_a_manager_home_shows_the_month_at_a_glance_not_every_role_figure(client_as):
    body = client_as("manager").get(reverse("home")).content.decode()
    assert 'data-role="manager"' in body and "Overdue, my customers" not in body and 'data-role="finance"' not in body


def test_a_reviewer_home_has_no_figures(client_as):
    assert "home-figures" not in client_as("reviewer").get(reverse("home")).content.decode()


def test_the_dashboard_shows_each_area_figure_once_its_selectors_give_it(client_as, monkeypatch):
    monkeypatch.setattr(
        sources, "sales_totals", lambda *, start, end, salesperson_id=None: sources.SalesTotals(Decimal("98765.40"), 77)
    )
    monkeypatch.setattr(
        sources, "sales_by_day", lambda *, start, end, salesperson_id=None: [sources.DayTotals(start, Decimal(5))]
    )
    monkeypatch.setattr(sources, "on_time_rate", lambda *, start, end, salesperson_id=None: Decimal("0.875"))
    monkeypatch.setattr(
        sources, "orders_at_risk", lambda *, salesperson_id=None, limit=20: sources.RiskFigures(6, {"late": 6}, [])
    )
    body = client_as("manager").get(reverse("reports:dashboard")).content.decode()
    assert "98,765.40" in body and "87.5 %" in body and "Revenue per day, month to date" in body
    assert "Being rebuilt" not in body


def test_revenue_comes_from_the_sales_facts_and_sales_see_only_theirs(client, client_as, make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    tea = stocked_product(stock={warehouse: 100}, sku="TEA-1", list_price=Decimal("200.00"), cost=Decimal("120.00"))
    seller, other = make_user("sales"), make_user("sales")
    approved_order(lines=[(tea, 2)], by=seller, approved_at=timezone.now())  # 400 net
    approved_order(lines=[(tea, 30)], by=other, approved_at=timezone.now())  # 6,000 net
    sales_facts_rebuild()
    receivables_refresh()
    cycles_rebuild()  # every snapshot the dashboard reads is built: it says as of when

    dashboard = client_as("manager").get(reverse("reports:dashboard")).content.decode()
    assert "6,400.00" in dashboard and "Data as of" in dashboard
    client.force_login(seller)
    home = client.get(reverse("home")).content.decode()
    assert "My revenue (net)" in home and "400.00" in home and "6,400.00" not in home and "6,000.00" not in home


def test_orders_at_risk_come_from_the_cycles_and_a_salesperson_counts_only_theirs(client, client_as, make_user):
    seller, other = make_user("sales"), make_user("sales")
    now, today = timezone.now(), timezone.localdate()
    for by in (seller, other, other):
        timeline_order(
            by=by,
            steps=[("submitted", now - timedelta(hours=5)), ("allocated", now - timedelta(hours=4))],
            requested_date=today - timedelta(days=2),
        )
    cycles_rebuild()
    dashboard = client_as("manager").get(reverse("reports:dashboard")).content.decode()
    assert re.search(r"Orders at risk</a></div>\s*<div class=\"value\">3<", dashboard)
    assert "Orders at risk by reason" in dashboard
    client.force_login(seller)
    home = client.get(reverse("home")).content.decode()
    assert re.search(r"My orders at risk</a></span>\s*<span class=\"home-figure-value\">1<", home)


@pytest.fixture
def rebuild_holding_the_sales_facts(db):
    """Another connection holds the sales facts the way a nightly rebuild's TRUNCATE does, until the test ends."""
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )
    other.execute(f"LOCK TABLE {SalesTotals._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    yield
    other.rollback()
    other.close()


def test_while_a_rebuild_holds_the_sales_facts_their_figures_are_a_dash_and_no_page_waits(
    client_as, rebuild_holding_the_sales_facts
):
    client = client_as("manager")
    started = time.monotonic()
    dashboard = client.get(reverse("reports:dashboard"))
    home = client.get(reverse("home"))
    assert time.monotonic() - started < 10  # each held read gives up after half a second
    body = dashboard.content.decode()
    assert dashboard.status_code == 200 and "Being rebuilt right now" in body and "Sales and margin" in body
    assert "Receivables by age" in body  # what the rebuild does not hold is shown
    assert home.status_code == 200 and "home-figures" not in home.content.decode()


@pytest.mark.parametrize("role", ["manager", "sales", "warehouse", "finance"])
def test_home_figures_ask_as_many_queries_however_many_invoices_and_alerts(client_as, role):
    client = client_as(role)
    overdue_invoice(gross="10.00", salesperson=client.user)
    stock_alert()
    client.get(reverse("home"))  # settings read once and cached
    one = queries_for(lambda: client.get(reverse("home")))
    for _ in range(2):  # the queues beside show up to five items: stay below, as they count past it
        overdue_invoice(gross="10.00", salesperson=client.user)
        stock_alert()
    assert queries_for(lambda: client.get(reverse("home"))) == one

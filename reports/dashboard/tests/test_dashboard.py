"""The manager dashboard and the figures on the sales, warehouse and finance homes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.tests.receivables_factories import issued_invoice
from customers.tests.factories import CustomerFactory
from inventory.models import LowStockAlert
from inventory.tests.factories import ProductFactory, WarehouseFactory
from tests.queries import queries_for

pytestmark = pytest.mark.django_db


def overdue_invoice(*, gross: str, salesperson=None):
    today = timezone.localdate()
    customer = CustomerFactory(salesperson=salesperson)
    return issued_invoice(
        customer=customer, gross=gross, issued_on=today - timedelta(days=45), due_date=today - timedelta(days=15)
    )


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


def test_a_manager_home_shows_the_month_at_a_glance_not_every_role_figure(client_as):
    body = client_as("manager").get(reverse("home")).content.decode()
    assert 'data-role="manager"' in body and "Overdue, my customers" not in body and 'data-role="finance"' not in body


def test_a_reviewer_home_has_no_figures(client_as):
    assert "home-figures" not in client_as("reviewer").get(reverse("home")).content.decode()

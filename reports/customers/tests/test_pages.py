"""The customer report and the relationship report as pages, exports and PDFs: who may read them, what they show,
both languages, bad filters, and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from customers.tests.factories import ComplaintFactory
from inventory.tests.factories import ProductFactory
from reports.customers.snapshot import customer_snapshot_rebuild
from tests.downloads import body
from tests.queries import queries_for

from .factories import CustomerFactory, line, order_on

pytestmark = pytest.mark.django_db

REPORT = reverse("reports:customers")
YEAR = {"start": "2025-07-01", "end": "2026-06-30"}


@pytest.fixture
def book(make_user):
    """Two salespeople's customers with orders over the last year (relative to now, so the defaults see them)."""
    wang, li = make_user("sales", username="wang"), make_user("sales", username="li")
    now = timezone.now()
    mine = CustomerFactory(salesperson=wang, name="王的客户 华东")
    theirs = CustomerFactory(salesperson=li, name="李的客户 华南")
    kettle = ProductFactory(name="电热水壶")
    first = order_on(customer=mine, user=wang, days_ago=40, total="1200.00", now=now)
    line(first, kettle, quantity=3, net="1200.00")
    order_on(customer=mine, user=wang, days_ago=5, total="300.00", now=now)
    order_on(customer=theirs, user=li, days_ago=15, total="5000.00", now=now)
    order_on(customer=mine, user=wang, days_ago=2, total="80.00", now=now, status="allocated")  # booked, open
    ComplaintFactory(customer=mine, subject="壶盖松动")
    customer_snapshot_rebuild(now=now)
    return {"wang": wang, "li": li, "mine": mine, "theirs": theirs, "now": now}


def as_user(client, user):
    client.force_login(user)
    return client


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode("utf-8").lstrip("\ufeff"))))


# --- the customer report -------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["segments", "top", "new_returning", "complaints"])
def test_every_view_of_the_customer_report_shows_figures_a_chart_and_a_table(client_as, book, view):
    response = client_as("manager").get(REPORT, {"view": view})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<img class="chart"' in page and '<table class="report-table">' in page
    assert "Data as of" in page and "format=xlsx" in page


def test_the_period_is_the_last_12_months_unless_chosen(client_as, book):
    client = client_as("manager")
    rows = csv_rows(client.get(REPORT, {"view": "new_returning", "format": "csv"}))
    this_month = timezone.localdate().strftime("%Y-%m")
    assert len(rows) == 1 + 12 + 1 and rows[12][0] == this_month  # header, 12 months, total
    rows = csv_rows(client.get(REPORT, {"view": "new_returning", "start": "2026-01-01", "end": "2026-03-31", "format": "csv"}))
    assert [row[0] for row in rows[1:-1]] == ["2026-01", "2026-02", "2026-03"]


def test_segments_link_to_their_customers_and_count_them(client_as, book):
    page = client_as("manager").get(REPORT).content.decode()
    assert "view=top" in page and "segment=new" in page
    assert "Active customers" in page


def test_top_customers_rank_by_gross_amount_and_link_to_the_relationship_report(client_as, book):
    rows = csv_rows(client_as("manager").get(REPORT, {"view": "top", "format": "csv"}))
    assert rows[0][:3] == ["Rank", "Customer", "Salesperson"]
    assert [row[1] for row in rows[1:3]] == [str(book["theirs"]), str(book["mine"])]
    assert rows[2][6] == "1580.00" or Decimal(rows[2][6]) == Decimal("1580.00")
    page = client_as("manager").get(REPORT, {"view": "top"}).content.decode()
    assert reverse("reports:customer_relationship", args=[book["mine"].pk]) in page


def test_top_customers_list_the_first_ones_and_total_them_all(client_as, book, monkeypatch):
    monkeypatch.setattr("reports.customers.selectors.TOP_CUSTOMERS", 1)
    client = client_as("manager")
    rows = csv_rows(client.get(REPORT, {"view": "top", "format": "csv"}))
    assert [row[1] for row in rows[1:-1]] == [str(book["theirs"])]
    assert rows[-1][5:7] == ["4", "6580.00"]  # every customer's orders and gross amount
    assert "The first 1 of 2 customers are listed" in client.get(REPORT, {"view": "top"}).content.decode()


def test_a_salesperson_sees_only_their_own_customers_whatever_they_ask_for(client, book):
    client = as_user(client, book["wang"])
    response = client.get(REPORT, {"view": "top", "salesperson": book["li"].pk, "format": "csv"})
    names = [row[1] for row in csv_rows(response)[1:-1]]
    assert names == [str(book["mine"])]
    page = client.get(REPORT, {"view": "top"}).content.decode()
    assert 'name="salesperson"' not in page and str(book["theirs"].name) not in page


def test_a_manager_narrows_the_report_to_one_salesperson(client_as, book):
    rows = csv_rows(client_as("manager").get(REPORT, {"view": "top", "salesperson": book["li"].pk, "format": "csv"}))
    assert [row[1] for row in rows[1:-1]] == [str(book["theirs"])]


@pytest.mark.parametrize(("role", "status"), [("warehouse", 403), ("finance", 403), ("reviewer", 403), ("sales", 200)])
def test_the_customer_report_needs_its_permission(client_as, role, status):
    assert client_as(role).get(REPORT).status_code == status


@pytest.mark.parametrize(
    ("query", "field_error"),
    [
        ({"start": "2026-06-30", "end": "2026-06-01"}, "The end of the period is before its start."),
        ({"view": "everything"}, "Select a valid choice."),
        ({"segment": "vip"}, "Select a valid choice."),
        ({"start": "not a date"}, "Enter a valid date."),
    ],
)
def test_a_bad_filter_is_told_on_the_page_and_refused_as_a_file(client_as, query, field_error):
    client = client_as("manager")
    response = client.get(REPORT, query)
    assert response.status_code == 200 and field_error in response.content.decode()
    assert client.get(REPORT, {**query, "format": "csv"}).status_code == 400


def test_exports_as_xlsx_and_pdf(client_as, book):
    from pypdf import PdfReader

    client = client_as("manager")
    sheet = load_workbook(io.BytesIO(body(client.get(REPORT, {"view": "complaints", "format": "xlsx"})))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Customer" and values[1][0] == str(book["mine"]) and values[1][4] == 1
    response = client.get(REPORT, {"view": "segments", "format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Customer report" in text and "Champions" in text


def test_the_customer_report_in_chinese(client_as, book):
    from pypdf import PdfReader

    client = client_as("manager")
    client.cookies["django_language"] = "zh-hans"
    page = client.get(REPORT).content.decode()
    assert "客户报表" in page and "明星客户" in page and "新客户" in page
    response = client.get(REPORT, {"view": "new_returning", "format": "pdf"})
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "新客户" in text and "老客户" in text


def test_before_the_first_rebuild_the_report_says_so(client_as):
    page = client_as("manager").get(REPORT).content.decode()
    assert "The figures have not been built yet" in page


def test_the_customer_report_reads_a_fixed_number_of_queries_however_many_customers(client_as, make_user):
    client = client_as("manager")
    seller = make_user("sales")
    now = timezone.now()

    def grow(n):
        for _ in range(n):
            customer = CustomerFactory(salesperson=seller)
            order_on(customer=customer, user=seller, days_ago=3, total="10.00", now=now)
            ComplaintFactory(customer=customer)
        customer_snapshot_rebuild(now=now)

    counts = {}
    for view in ["segments", "top", "new_returning", "complaints"]:
        counts[view] = []
    for n in (1, 6):
        grow(n)
        for view in counts:
            counts[view].append(queries_for(lambda view=view: client.get(REPORT, {"view": view})))
    assert all(first == second for first, second in counts.values()), counts
    assert max(max(pair) for pair in counts.values()) <= 14, counts


# --- the relationship report ------------------------------------------------------------------------


def relationship(customer) -> str:
    return reverse("reports:customer_relationship", args=[customer.pk])


def test_the_relationship_report_shows_orders_over_time_open_orders_money_and_complaints(client, book):
    client = as_user(client, book["wang"])
    response = client.get(relationship(book["mine"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<img class="chart"' in page and "Receivables and payment behaviour" in page
    assert "壶盖松动" in page  # the complaint
    assert book["mine"].orders.get(status="allocated").number in page  # the open order
    months = csv_rows(client.get(relationship(book["mine"]), {"format": "csv"}))
    assert months[0] == ["Month", "Orders", "Net amount", "Gross amount"]
    assert months[-1][:2] == ["Total", "3"]
    products = csv_rows(client.get(relationship(book["mine"]), {"view": "products", "format": "csv"}))
    assert products[1][1:4] == ["电热水壶", "3", "1200.00"]


def test_the_relationship_report_as_pdf_in_chinese(client, book):
    from pypdf import PdfReader

    client = as_user(client, book["wang"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(relationship(book["mine"]), {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "客户往来报告" in text and "未完成订单" in text and "王的客户" in text


def test_another_salespersons_customer_is_not_there_for_a_salesperson(client, book):
    client = as_user(client, book["wang"])
    assert client.get(relationship(book["theirs"])).status_code == 404
    assert client.get(relationship(book["theirs"]), {"format": "csv"}).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("warehouse", 403), ("finance", 403), ("manager", 200)])
def test_the_relationship_report_needs_the_customer_report_permission(client_as, book, role, status):
    assert client_as(role).get(relationship(book["theirs"])).status_code == status


def test_the_relationship_report_of_an_unknown_customer_is_not_found(client_as):
    assert client_as("manager").get(reverse("reports:customer_relationship", args=[99999])).status_code == 404


def test_the_relationship_report_reads_a_fixed_number_of_queries_however_many_orders(client_as, make_user):
    client = client_as("manager")
    seller = make_user("sales")
    customer = CustomerFactory(salesperson=seller)
    now = timezone.now()

    def grow(n):
        for i in range(n):
            order = order_on(customer=customer, user=seller, days_ago=10 + i, total="10.00", now=now, status="approved")
            line(order, ProductFactory(), quantity=1, net="10.00")
            ComplaintFactory(customer=customer)
        customer_snapshot_rebuild(now=now)

    counts = []
    for n in (1, 6):
        grow(n)
        counts.append(queries_for(lambda: client.get(relationship(customer))))
        counts.append(queries_for(lambda: client.get(relationship(customer), {"view": "products"})))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_a_customer_without_orders_has_an_empty_relationship_report(client_as):
    customer = CustomerFactory()
    customer_snapshot_rebuild(now=timezone.make_aware(datetime.now()) - timedelta(seconds=1))
    page = client_as("manager").get(relationship(customer)).content.decode()
    assert "No open orders." in page and "No complaints." in page

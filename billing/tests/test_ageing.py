"""Receivables ageing: every open amount lands in exactly one bucket by days past due, boundaries
included; the sums are exact Decimals from one grouped query; the page filters and exports them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from billing.ageing import ageing_buckets, ageing_by_customer, ageing_totals, customer_ageing
from billing.models import Invoice
from billing.tests.receivables_factories import issued_invoice
from customers.tests.factories import CustomerFactory
from tests.downloads import body as downloaded

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
D = Decimal


def _invoice(customer, gross, days_past_due, **kwargs):
    return issued_invoice(
        customer=customer,
        gross=gross,
        issued_on=AS_OF - timedelta(days=120),
        due_date=AS_OF - timedelta(days=days_past_due),
        **kwargs,
    )


@pytest.fixture
def book(make_user):
    """Customer A: an invoice on each side of every boundary; customer B: one; settled and draft ones do not count."""
    seller = make_user("sales", first_name="Wu", last_name="Lan")
    a = CustomerFactory(name="甲 Alpha Trading", salesperson=seller)
    b = CustomerFactory(name="乙 Beta Supplies")
    _invoice(a, "100.00", 0)  # due today: current
    _invoice(a, "0.01", -15)  # not due yet: current
    _invoice(a, "200.00", 1)  # first day overdue
    _invoice(a, "300.00", 30)
    _invoice(a, "400.00", 31)
    _invoice(a, "500.00", 60)
    _invoice(a, "600.00", 61)
    _invoice(a, "700.00", 90)
    _invoice(a, "800.00", 91)
    _invoice(a, "1000.10", 400, paid="0.05", credited="0.05")  # 1000.00 still open
    _invoice(a, "999.00", 45, paid="999.00")  # settled: not open
    _invoice(a, "50.00", 45, credited="50.00")  # credited in full: not open
    issued = _invoice(b, "50.00", 29)
    Invoice.objects.create(customer=b, buyer_name=b.name, total_net=D("70.00"), total_gross=D("70.00"))  # a draft
    return {"a": a, "b": b, "seller": seller, "b_invoice": issued}


def test_default_buckets_are_current_1_30_31_60_61_90_and_over_90():
    assert [(b.key, b.first, b.last) for b in ageing_buckets()] == [
        ("current", None, 0),
        ("d1_30", 1, 30),
        ("d31_60", 31, 60),
        ("d61_90", 61, 90),
        ("d91_plus", 91, None),
    ]


def test_each_amount_lands_in_its_bucket_boundaries_included(book):
    rows = {row["customer_id"]: row for row in ageing_by_customer(as_of=AS_OF)}
    a = rows[book["a"].pk]
    assert a["current"] == D("100.01")
    assert a["d1_30"] == D("500.00")
    assert a["d31_60"] == D("900.00")
    assert a["d61_90"] == D("1300.00")
    assert a["d91_plus"] == D("1800.00")
    assert a["overdue"] == D("4500.00")
    assert a["total"] == D("4600.01")
    assert a["invoice_count"] == 10
    b = rows[book["b"].pk]
    assert (b["current"], b["d1_30"], b["d31_60"], b["total"]) == (D("0"), D("50.00"), D("0"), D("50.00"))
    assert set(rows) == {book["a"].pk, book["b"].pk}


def test_totals_are_the_sum_of_the_customers_and_each_row_adds_up(book):
    rows = list(ageing_by_customer(as_of=AS_OF))
    totals = ageing_totals(as_of=AS_OF)
    for bucket in ageing_buckets():
        assert totals[bucket.key] == sum((row[bucket.key] for row in rows), D("0"))
    for row in rows:
        assert sum((row[b.key] for b in ageing_buckets()), D("0")) == row["total"]
    assert totals["total"] == D("4650.01")
    assert isinstance(totals["total"], Decimal)


def test_largest_total_first_and_one_query(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(ageing_by_customer(as_of=AS_OF))
    assert [row["customer_id"] for row in rows] == [book["a"].pk, book["b"].pk]


def test_a_day_later_every_boundary_moves_one_bucket(book):
    row = ageing_by_customer(as_of=AS_OF + timedelta(days=1)).get(customer_id=book["a"].pk)
    # due today → 1 day; 30 → 31; 60 → 61; 90 → 91
    assert row["current"] == D("0.01")
    assert row["d1_30"] == D("300.00")  # 1 → 2 days and today's 100 → 1 day
    assert row["d31_60"] == D("700.00")
    assert row["d61_90"] == D("1100.00")
    assert row["d91_plus"] == D("2500.00")


def test_buckets_follow_the_setting(book, settings):
    settings.AR_AGEING_BUCKETS = (15,)
    assert [b.key for b in ageing_buckets()] == ["current", "d1_15", "d16_plus"]
    row = ageing_by_customer(as_of=AS_OF).get(customer_id=book["b"].pk)
    assert (row["d1_15"], row["d16_plus"]) == (D("0"), D("50.00"))


def test_a_badly_ordered_setting_is_refused(settings):
    settings.AR_AGEING_BUCKETS = (60, 30)
    with pytest.raises(ValueError):
        ageing_buckets()


def test_filters_by_salesperson_and_customer_search(book):
    by_seller = list(ageing_by_customer(as_of=AS_OF, salesperson_id=book["seller"].pk))
    assert [row["customer_id"] for row in by_seller] == [book["a"].pk]
    searched = list(ageing_by_customer(as_of=AS_OF, search="beta"))
    assert [row["customer_id"] for row in searched] == [book["b"].pk]
    assert list(ageing_by_customer(as_of=AS_OF, search=book["b"].code)) == searched
    assert ageing_totals(as_of=AS_OF, search="beta")["total"] == D("50.00")


def test_one_customers_ageing(book):
    ageing = dict((bucket.key, amount) for bucket, amount in customer_ageing(customer_id=book["b"].pk, as_of=AS_OF))
    assert ageing == {"current": D("0"), "d1_30": D("50.00"), "d31_60": D("0"), "d61_90": D("0"), "d91_plus": D("0")}


# --- the page ---------------------------------------------------------------------------------------


def test_finance_sees_the_receivables_page_with_totals(client_as, book):
    client = client_as("finance")
    response = client.get(reverse("billing:receivables"), {"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "甲 Alpha Trading" in body and "乙 Beta Supplies" in body
    assert "4,650.01" in body
    assert "61–90 days" in body and "&gt; 90 days" in body


def test_the_page_filters_by_salesperson(client_as, book):
    client = client_as("finance")
    body = client.get(reverse("billing:receivables"), {"as_of": AS_OF.isoformat(), "salesperson": book["seller"].pk}).content
    assert "甲 Alpha Trading" in body.decode() and "乙 Beta Supplies" not in body.decode()


def test_sales_may_not_open_the_receivables(client_as, book):
    assert client_as("sales").get(reverse("billing:receivables")).status_code == 403
    assert client_as("sales").get(reverse("billing:receivables_export")).status_code == 403


def test_nonsense_filters_are_shown_not_a_server_error(client_as, book):
    response = client_as("finance").get(reverse("billing:receivables"), {"as_of": "yesterday", "salesperson": "x", "page": "-1"})
    assert response.status_code == 200


def test_csv_export_has_every_customer_and_the_total(client_as, book):
    response = client_as("finance").get(reverse("billing:receivables_export"), {"as_of": AS_OF.isoformat(), "format": "csv"})
    assert response.status_code == 200
    text = downloaded(response).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Customer code", "Customer"]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[book["a"].code][2:7] == ["100.01", "500.00", "900.00", "1300.00", "1800.00"]
    assert rows[-1][1] == "Total" and rows[-1][-2] == "4650.01"


def test_xlsx_export_keeps_amounts_as_numbers(client_as, book):
    response = client_as("finance").get(reverse("billing:receivables_export"), {"as_of": AS_OF.isoformat(), "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(downloaded(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    total = rows[-1]
    assert total[1] == "Total" and Decimal(str(total[-2])) == D("4650.01")


def test_unknown_export_format_is_a_400(client_as, book):
    response = client_as("finance").get(reverse("billing:receivables_export"), {"format": "pdf"})
    assert response.status_code == 400


def test_exports_never_let_a_customer_name_run_as_a_formula(client_as, book):
    hostile = CustomerFactory(name='=HYPERLINK("http://example.invalid","x")')
    _invoice(hostile, "10.00", 5)
    url = reverse("billing:receivables_export")
    text = downloaded(client_as("finance").get(url, {"as_of": AS_OF.isoformat(), "format": "csv"})).decode("utf-8-sig")
    row = next(row for row in csv.reader(io.StringIO(text)) if row[0] == hostile.code)
    assert row[1] == "'" + hostile.name
    response = client_as("finance").get(url, {"as_of": AS_OF.isoformat(), "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(downloaded(response))).active
    cell = next(row[1] for row in sheet.iter_rows() if row[0].value == hostile.code)
    assert cell.value == hostile.name and cell.data_type == "s"

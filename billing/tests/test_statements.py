"""Customer statements: the figures reconcile (opening + invoiced − credited − paid = closing), the
statement is sent with an unguessable link, the customer confirms or disputes it once through that
link, finance sees the state; the monthly run sends once; PDF and XLSX in the customer's language."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from billing.statements.documents import statement_pdf
from billing.statements.models import CustomerStatement, StatementEvent, StatementToken
from billing.statements.services import (
    monthly_statements_send,
    statement_create,
    statement_respond,
    statement_send,
    statement_withdraw,
)
from billing.tests.receivables_factories import issued_credit_note, issued_invoice, received_payment
from config.errors import DomainError
from customers.tests.factories import CustomerFactory
from orders.models import SalesOrderLine
from orders.tests.review_factories import make_order

pytestmark = pytest.mark.django_db

D = Decimal
START, END = date(2026, 5, 1), date(2026, 5, 31)


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def finance(make_user):
    return make_user("finance")


@pytest.fixture
def customer():
    return CustomerFactory(name="丁 Delta Machinery", email="finance@delta.example", language="zh-hans")


@pytest.fixture
def ledger(customer):
    """April: invoiced 1,000.00 and 500.00, paid 300.00 (opening 1,200.00). May: invoiced 2,000.50,
    credited 100.25, paid 1,000.00. June (after the period): invoiced 999.99."""
    april = issued_invoice(customer=customer, gross="1000.00", issued_on=date(2026, 4, 3), due_date=date(2026, 5, 3))
    issued_invoice(customer=customer, gross="500.00", issued_on=date(2026, 4, 30), due_date=date(2026, 5, 30))
    received_payment(customer=customer, amount="300.00", on=date(2026, 4, 20))
    may = issued_invoice(customer=customer, gross="2000.50", issued_on=date(2026, 5, 1), due_date=date(2026, 5, 31))
    issued_credit_note(invoice=april, gross="100.25", issued_on=date(2026, 5, 15))
    received_payment(customer=customer, amount="1000.00", on=date(2026, 5, 31))
    issued_invoice(customer=customer, gross="999.99", issued_on=date(2026, 6, 1), due_date=date(2026, 7, 1))
    other = CustomerFactory()
    issued_invoice(customer=other, gross="77.00", issued_on=date(2026, 5, 10))  # someone else's
    return {"april": april, "may": may}


def make(customer, finance, start=START, end=END) -> CustomerStatement:
    return statement_create(customer=customer, period_start=start, period_end=end, by=finance)


def test_the_figures_reconcile_and_only_the_periods_entries_are_listed(customer, ledger, finance):
    statement = make(customer, finance)
    assert statement.opening_balance == D("1200.00")
    assert (statement.invoiced, statement.credited, statement.paid) == (D("2000.50"), D("100.25"), D("1000.00"))
    assert statement.closing_balance == D("2100.25")
    assert statement.opening_balance + statement.invoiced - statement.credited - statement.paid == statement.closing_balance
    assert [(e["kind"], e["date"]) for e in statement.entries] == [
        ("invoice", "2026-05-01"),
        ("credit_note", "2026-05-15"),
        ("payment", "2026-05-31"),
    ]
    assert statement.entries[0]["debit"] == "2000.50" and statement.entries[1]["credit"] == "100.25"
    assert statement.state == "draft"


def test_the_next_periods_opening_is_this_periods_closing(customer, ledger, finance):
    may = make(customer, finance)
    june = make(customer, finance, date(2026, 6, 1), date(2026, 6, 30))
    assert june.opening_balance == may.closing_balance
    assert june.closing_balance == D("2100.25") + D("999.99")


def test_delivered_not_invoiced_is_valued_at_the_lines_gross_per_unit(customer, finance, make_user):
    order = make_order(by=make_user("sales"), customer=customer)
    line = order.lines.get()
    SalesOrderLine.objects.filter(pk=line.pk).update(
        quantity=3, quantity_shipped=3, quantity_returned=1, quantity_invoiced=0, line_total=D("339.00")
    )
    statement = make(customer, finance)
    assert statement.uninvoiced == [
        {"order": order.number, "position": 1, "description": line.description, "quantity": 2, "amount": "226.00"}
    ]
    assert statement.delivered_not_invoiced == D("226.00")


def test_the_ageing_of_the_statement_is_by_days_past_due_on_its_last_day(customer, ledger, finance):
    statement = make(customer, finance)
    ageing = {row["key"]: D(row["amount"]) for row in statement.ageing}
    # On 31 May the April invoices are 28 and 1 days late, May's is due that day; June's is not on it.
    assert ageing["d1_30"] == D("1000.00") + D("500.00")
    assert ageing["current"] == D("2000.50")
    assert ageing["d31_60"] == ageing["d61_90"] == ageing["d91_plus"] == D("0")


def test_a_second_statement_for_the_same_period_is_refused_until_withdrawn(customer, ledger, finance):
    first = make(customer, finance)
    with pytest.raises(DomainError, match="already has a statement"):
        make(customer, finance)
    statement_withdraw(statement=first, by=finance, note="wrong period")
    assert make(customer, finance).pk != first.pk


def test_a_period_in_the_future_or_backwards_is_refused(customer, finance):
    with pytest.raises(DomainError):
        make(customer, finance, date(2026, 5, 31), date(2026, 5, 1))
    with pytest.raises(DomainError):
        make(customer, finance, date(2026, 5, 1), date(2999, 1, 1))


def test_sales_may_not_make_statements(customer, make_user):
    with pytest.raises(DomainError, match="not allowed"):
        make(customer, make_user("sales"))


# --- sending and the customer's answer ---------------------------------------------------------------


@pytest.fixture
def sent(customer, ledger, finance, django_capture_on_commit_callbacks):
    statement = make(customer, finance)
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_send(statement=statement, by=finance)
    return statement


def test_sending_stores_the_pdf_once_and_mails_the_link_in_the_customers_language(sent):
    assert sent.state == "sent" and sent.pdf_sha256 and len(sent.pdf_sha256) == 64
    token = StatementToken.objects.get(statement=sent).token
    assert len(token) >= 22  # ≥128 random bits, URL-safe
    [message] = mail.outbox
    assert message.to == ["finance@delta.example"]
    assert reverse("billing:statement_public", args=[token]) in message.body
    assert "对账单" in message.subject
    assert message.attachments[0][2] == "application/pdf"
    assert StatementEvent.objects.filter(statement=sent, kind="email").count() == 1


def test_a_customer_without_email_cannot_be_sent_a_statement(customer, ledger, finance):
    customer.email = ""
    customer.save()
    statement = make(customer, finance)
    with pytest.raises(DomainError, match="no e-mail"):
        statement_send(statement=statement, by=finance)
    statement.refresh_from_db()
    assert statement.state == "draft" and not StatementToken.objects.exists()


def public(token: str) -> str:
    return reverse("billing:statement_public", args=[token])


def test_the_customer_confirms_once_through_the_link(sent):
    token = StatementToken.objects.get(statement=sent).token
    client = Client(enforce_csrf_checks=True)
    page = client.get(public(token))
    assert page.status_code == 200
    body = page.content.decode()
    assert "丁 Delta Machinery" in body and "2,100.25" in body  # grouped by thousands in Chinese too
    assert page["X-Robots-Tag"] == "noindex"
    csrf = client.cookies["csrftoken"].value
    response = client.post(public(token), {"answer": "confirm", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.state == "confirmed" and sent.responded_at is not None
    again = client.post(public(token), {"answer": "dispute", "comment": "changed my mind", "csrfmiddlewaretoken": csrf})
    assert again.status_code == 409
    sent.refresh_from_db()
    assert sent.state == "confirmed" and sent.customer_comment == ""


def test_a_dispute_needs_a_comment_and_finance_sees_it(sent, client_as):
    token = StatementToken.objects.get(statement=sent).token
    client = Client()
    assert client.post(public(token), {"answer": "dispute", "comment": "  "}).status_code == 422
    sent.refresh_from_db()
    assert sent.state == "sent"
    assert client.post(public(token), {"answer": "dispute", "comment": "发票金额不符"}).status_code == 302
    sent.refresh_from_db()
    assert sent.state == "disputed" and sent.customer_comment == "发票金额不符"
    event = StatementEvent.objects.get(statement=sent, kind="dispute")
    assert event.note == "发票金额不符" and event.actor_name == "statement_link"
    finance = client_as("finance")
    detail = finance.get(sent.get_absolute_url()).content.decode()
    assert "发票金额不符" in detail
    listing = finance.get(reverse("billing:statement_list"), {"state": "disputed"}).content.decode()
    assert "丁 Delta Machinery" in listing
    home = finance.get(reverse("home")).content.decode()
    assert "Statements disputed" in home and "丁 Delta Machinery" in home


def test_a_wrong_or_revoked_token_is_a_404_and_shows_nothing(sent, finance):
    client = Client()
    assert client.get(public("x" * 32)).status_code == 404
    assert client.post(public("x" * 32), {"answer": "confirm"}).status_code == 404
    token = StatementToken.objects.get(statement=sent).token
    statement_withdraw(statement=sent, by=finance)
    response = client.get(public(token))
    assert response.status_code == 404 and "Delta" not in response.content.decode()


def test_a_post_without_the_csrf_token_is_refused(sent):
    token = StatementToken.objects.get(statement=sent).token
    response = Client(enforce_csrf_checks=True).post(public(token), {"answer": "confirm"})
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.state == "sent"


def test_the_public_page_is_rate_limited(sent, settings):
    settings.STATEMENT_PAGE_RATE_LIMIT = 3
    token = StatementToken.objects.get(statement=sent).token
    client = Client()
    assert [client.get(public(token)).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_service_refuses_a_reused_token(sent):
    token = StatementToken.objects.get(statement=sent).token
    statement_respond(token=token, answer="confirm")
    with pytest.raises(DomainError, match="already answered"):
        statement_respond(token=token, answer="confirm")


def test_finance_revokes_the_link(sent, client_as):
    token = StatementToken.objects.get(statement=sent).token
    client = client_as("finance")
    assert client.post(reverse("billing:statement_link_revoke", args=[sent.pk])).status_code == 302
    assert Client().get(public(token)).status_code == 404


# --- documents, pages, the monthly run ---------------------------------------------------------------


def test_pdf_and_xlsx(sent, client_as):
    pdf = statement_pdf(statement=sent, language="zh-hans")
    assert pdf.startswith(b"%PDF")
    client = client_as("finance")
    response = client.get(reverse("billing:statement_document", args=[sent.pk, "xlsx"]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1] for row in workbook.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    assert D(str(summary["Closing balance"])) == D("2100.25")
    stored = client.get(reverse("billing:statement_document", args=[sent.pk, "pdf"]))
    assert stored.status_code == 200 and stored.content == sent.pdf.open("rb").read()


def test_the_list_filters_and_searches(customer, ledger, finance, client_as):
    make(customer, finance)
    other = CustomerFactory(name="戊 Epsilon Foods")
    issued_invoice(customer=other, gross="10.00", issued_on=date(2026, 5, 2))
    make(other, finance)
    client = client_as("finance")
    body = client.get(reverse("billing:statement_list"), {"q": "epsilon", "period": "2026-05"}).content.decode()
    assert "戊 Epsilon Foods" in body and "丁 Delta Machinery" not in body
    assert client.get(reverse("billing:statement_list"), {"period": "May"}).status_code == 200


def test_the_create_page_makes_one_statement_on_a_double_click(customer, ledger, client_as):
    client = client_as("finance")
    data = {"customer": customer.code, "period_start": "2026-05-01", "period_end": "2026-05-31", "submission_token": "t" * 32}
    first = client.post(reverse("billing:statement_create"), data)
    second = client.post(reverse("billing:statement_create"), data)
    assert first.status_code == 302 and second.status_code == 302
    assert CustomerStatement.objects.count() == 1
    unknown = client.post(reverse("billing:statement_create"), {**data, "customer": "NOPE", "submission_token": "u" * 32})
    assert unknown.status_code == 422


def test_sales_and_reviewers_may_not_see_statements(client_as, sent):
    assert client_as("sales").get(reverse("billing:statement_list")).status_code == 403
    assert client_as("reviewer").get(sent.get_absolute_url()).status_code == 403


def test_the_monthly_run_sends_last_months_statements_once(customer, ledger, django_capture_on_commit_callbacks):
    quiet = CustomerFactory(name="No activity")
    with django_capture_on_commit_callbacks(execute=True):
        first = monthly_statements_send(today=date(2026, 6, 5))
        second = monthly_statements_send(today=date(2026, 6, 20))
    made = {s.customer_id for s in first.made}
    assert customer.pk in made and quiet.pk not in made
    assert second.made == [] and second.sent == 0
    statement = CustomerStatement.objects.get(customer=customer)
    assert (statement.period_start, statement.period_end, statement.state) == (START, END, "sent")
    assert len([m for m in mail.outbox if m.to == ["finance@delta.example"]]) == 1


def test_the_public_page_speaks_the_customers_language(sent):
    token = StatementToken.objects.get(statement=sent).token
    body = Client().get(public(token)).content.decode()
    assert "对账单" in body and 'lang="zh-hans"' in body


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_2_or_12_statements(finance, client_as):
    client = client_as("finance")
    for _ in range(2):
        make(CustomerFactory(), finance)
    few = _queries(client, reverse("billing:statement_list"))
    for _ in range(10):
        make(CustomerFactory(), finance)
    assert _queries(client, reverse("billing:statement_list")) == few


def test_the_receivables_page_costs_the_same_queries_for_2_or_12_customers(client_as):
    client = client_as("finance")
    for _ in range(2):
        issued_invoice(customer=CustomerFactory(), gross="10.00", issued_on=date(2026, 5, 2))
    few = _queries(client, reverse("billing:receivables"))
    for _ in range(10):
        issued_invoice(customer=CustomerFactory(), gross="10.00", issued_on=date(2026, 5, 2))
    assert _queries(client, reverse("billing:receivables")) == few


def test_the_customer_page_shows_statements_and_the_new_statement_link(sent, client_as):
    body = client_as("finance").get(sent.customer.get_absolute_url()).content.decode()
    assert "Statements and reminders" in body
    assert sent.get_absolute_url() in body
    assert f"{reverse('billing:statement_create')}?customer={sent.customer.pk}" in body
    assert "Statements and reminders" not in client_as("sales").get(sent.customer.get_absolute_url()).content.decode()

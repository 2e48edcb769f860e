"""The invoice and credit note pages, by role: finance does it all, managers read, sales read their orders' invoices."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models import CreditNote, Invoice
from billing.tests.factories import finance_user, issued_invoice, shipped_order
from config.submissions import submission_token_new

pytestmark = pytest.mark.django_db


def _post(client, url, data=None):
    return client.post(url, {"submission_token": submission_token_new(), **(data or {})})


def test_finance_invoices_an_order_from_its_page_issues_it_and_downloads_the_pdf(client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = shipped_order(quantity=2)
    client = client_as("finance")
    order_page = client.get(reverse("orders:detail", args=[order.pk]))
    create_url = reverse("billing:invoice_create", args=[order.pk])
    assert create_url in order_page.text  # the order page's invoices panel offers it

    response = _post(client, create_url, {"kind": "ordinary", "medium": "electronic"})
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    detail = client.get(invoice.get_absolute_url())
    assert "data-confirm" in detail.text and reverse("billing:invoice_issue", args=[invoice.pk]) in detail.text

    assert _post(client, reverse("billing:invoice_issue", args=[invoice.pk])).status_code == 302
    invoice.refresh_from_db()
    assert invoice.number and invoice.status == "issued"
    pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content)[:4] == b"%PDF"
    order_page = client.get(reverse("orders:detail", args=[order.pk]))
    assert invoice.number in order_page.text and "2 of 2 invoiced" in order_page.text


def test_a_double_submitted_create_makes_one_draft(client_as):
    order = shipped_order()
    client = client_as("finance")
    token = submission_token_new()
    url = reverse("billing:invoice_create", args=[order.pk])
    client.post(url, {"submission_token": token, "kind": "ordinary", "medium": "electronic"})
    client.post(url, {"submission_token": token, "kind": "ordinary", "medium": "electronic"})
    assert Invoice.objects.count() == 1


def test_nothing_to_invoice_is_a_form_error_not_a_500(client_as):
    order = shipped_order()
    client = client_as("finance")
    url = reverse("billing:invoice_create", args=[order.pk])
    _post(client, url, {"kind": "ordinary", "medium": "electronic"})
    response = _post(client, url, {"kind": "ordinary", "medium": "electronic"})
    assert response.status_code == 422
    assert "already invoiced" in response.text


def test_list_filters_search_and_export(client_as):
    finance = finance_user()
    invoice = issued_invoice(by=finance)
    client = client_as("finance")
    page = client.get(reverse("billing:invoice_list"), {"q": invoice.number})
    assert invoice.number in page.text
    assert client.get(reverse("billing:invoice_list"), {"q": "INV-1999"}).text.count("invoice-row") == 0
    assert client.get(reverse("billing:invoice_list"), {"status": "draft"}).text.count("invoice-row") == 0
    assert client.get(reverse("billing:invoice_list"), {"overdue": "on"}).text.count("invoice-row") == 0
    csv = client.get(reverse("billing:invoice_export"), {"format": "csv"})
    body = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert invoice.number in body and str(invoice.total_gross) in body
    xlsx = client.get(reverse("billing:invoice_export"), {"format": "xlsx"})
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    assert client.get(reverse("billing:invoice_export"), {"format": "pdf"}).status_code == 400


def test_managers_read_but_cannot_act(client_as):
    invoice = issued_invoice()
    client = client_as("manager")
    assert client.get(reverse("billing:invoice_list")).status_code == 200
    assert client.get(invoice.get_absolute_url()).status_code == 200
    assert _post(client, reverse("billing:invoice_create", args=[shipped_order().pk])).status_code == 403
    assert client.get(reverse("billing:creditnote_create", args=[invoice.pk])).status_code == 403
    assert client.get(reverse("billing:to_invoice")).status_code == 403


def test_sales_see_only_their_own_orders_invoices(client_as, make_user):
    finance = finance_user()
    seller = make_user("sales")
    mine = issued_invoice(by=finance, order=shipped_order())
    mine.lines.first().order.__class__.objects.filter(pk=mine.lines.first().order_id).update(created_by=seller)
    theirs = issued_invoice(by=finance)
    client = client_as("sales")
    client.force_login(seller)
    listing = client.get(reverse("billing:invoice_list")).text
    assert mine.number in listing and theirs.number not in listing
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert _post(client, reverse("billing:invoice_issue", args=[mine.pk])).status_code == 403


def test_warehouse_has_no_access(client_as):
    client = client_as("warehouse")
    assert client.get(reverse("billing:invoice_list")).status_code == 403
    assert client.get(reverse("billing:creditnote_list")).status_code == 403


def test_credit_note_pages_draft_and_issue(client_as):
    invoice = issued_invoice(quantity=3)
    line = invoice.lines.get()
    client = client_as("finance")
    form = client.get(reverse("billing:creditnote_create", args=[invoice.pk]))
    assert form.status_code == 200
    create_url = reverse("billing:creditnote_create", args=[invoice.pk])
    refused = _post(client, create_url, {"reason": "sales_return", f"qty_{line.pk}": "4"})
    assert refused.status_code == 422 and not CreditNote.objects.exists()
    _post(client, reverse("billing:creditnote_create", args=[invoice.pk]), {"reason": "sales_return", f"qty_{line.pk}": "1"})
    note = CreditNote.objects.get()
    assert _post(client, reverse("billing:creditnote_issue", args=[note.pk])).status_code == 302
    note.refresh_from_db()
    invoice.refresh_from_db()
    assert note.status == "issued" and invoice.amount_credited == note.total_gross
    assert note.number in client.get(reverse("billing:creditnote_list")).text
    assert note.number in client.get(invoice.get_absolute_url()).text


def test_finance_home_shows_delivered_not_invoiced(client_as):
    order = shipped_order()
    client = client_as("finance")
    assert order.number in client.get(reverse("home")).text
    _post(client, reverse("billing:invoice_create", args=[order.pk]), {"kind": "ordinary", "medium": "electronic"})
    home = client.get(reverse("home")).text
    assert "Draft invoices to issue" in home


def test_invoice_page_in_chinese(client_as):
    invoice = issued_invoice()
    client = client_as("finance")
    with translation.override("zh-hans"):
        response = client.get(invoice.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "价税合计" in response.text and "开具" in response.text

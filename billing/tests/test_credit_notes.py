"""Red-letter credit notes: never more than the invoice, the invoice's open amount right at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.credit_notes.services import (
    CreditRequest,
    credit_note_discard,
    credit_note_draft,
    credit_note_issue,
    credit_note_update_draft,
)
from billing.handlers import draft_credit_note_for_delivery_exception, draft_credit_note_for_return
from billing.invoices.services import invoice_draft_from_orders, invoice_issue, invoice_update_draft
from billing.models import CreditNote, Invoice
from billing.tests.factories import company_customer, finance_user, issued_invoice, shipped_order
from config.errors import DomainError, PermissionRefused

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return finance_user()


def test_full_credit_note_settles_the_invoice_and_gives_the_units_back(finance):
    invoice = issued_invoice(by=finance, quantity=4)
    note = credit_note_draft(invoice=invoice, reason="wrong_invoice", by=finance)
    assert note.total_gross == invoice.total_gross
    issued = credit_note_issue(credit_note=note, by=finance)
    assert issued.number.startswith("CN-") and issued.status == "issued"
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross
    assert invoice.open_amount == Decimal("0.00")
    assert invoice.payment_state == "credited"
    assert invoice.lines.get().order_line.quantity_invoiced == 0


def test_partial_credit_per_line_then_the_rest_takes_exactly_what_is_left(finance):
    invoice = issued_invoice(by=finance, quantity=3)
    line = invoice.lines.get()
    first = credit_note_issue(
        credit_note=credit_note_draft(
            invoice=invoice, reason="sales_return", by=finance, requests=[CreditRequest(invoice_line_id=line.pk, quantity=1)]
        ),
        by=finance,
    )
    rest = credit_note_issue(credit_note=credit_note_draft(invoice=invoice, reason="sales_return", by=finance), by=finance)
    assert rest.lines.get().quantity == 2
    assert first.total_gross + rest.total_gross == invoice.total_gross
    invoice.refresh_from_db()
    assert invoice.open_amount == 0


def test_price_concession_takes_back_money_only(finance):
    invoice = issued_invoice(by=finance, quantity=2)
    line = invoice.lines.get()
    note = credit_note_draft(
        invoice=invoice,
        reason="price_concession",
        by=finance,
        requests=[CreditRequest(invoice_line_id=line.pk, net=Decimal("10.00"))],
    )
    credit_note_issue(credit_note=note, by=finance)
    assert (note.total_net, note.total_tax, note.total_gross) == (Decimal("10.00"), Decimal("1.30"), Decimal("11.30"))
    invoice.refresh_from_db()
    assert invoice.open_amount == invoice.total_gross - Decimal("11.30")
    assert line.order_line.quantity_invoiced == 2  # no units came back


def test_credit_note_cannot_exceed_the_invoice(finance):
    invoice = issued_invoice(by=finance, quantity=2)
    line = invoice.lines.get()
    with pytest.raises(DomainError) as refused:
        credit_note_draft(invoice=invoice, reason="sales_return", by=finance, requests=[CreditRequest(line.pk, quantity=3)])
    assert refused.value.code == "over_credit"
    with pytest.raises(DomainError):
        credit_note_draft(
            invoice=invoice,
            reason="price_concession",
            by=finance,
            requests=[CreditRequest(line.pk, net=line.net + Decimal("0.01"))],
        )
    # Two drafts that each fit; the second to be issued no longer does.
    one = credit_note_draft(invoice=invoice, reason="wrong_invoice", by=finance)
    two = credit_note_draft(invoice=invoice, reason="wrong_invoice", by=finance)
    credit_note_issue(credit_note=one, by=finance)
    with pytest.raises(DomainError) as refused:
        credit_note_issue(credit_note=two, by=finance)
    assert refused.value.code == "over_credit"
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross
    assert CreditNote.objects.get(pk=two.pk).status == "draft"


def test_database_refuses_credit_above_the_invoice_total(finance):
    invoice = issued_invoice(by=finance)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(amount_credited=invoice.total_gross + 1)


def test_special_invoice_credit_needs_the_red_letter_number(finance):
    order = shipped_order(customer=company_customer())
    draft = invoice_draft_from_orders(orders=[order], by=finance, kind="special").invoice
    invoice_update_draft(invoice=draft, by=finance, buyer_bank_account="工商银行 6222 0000")
    invoice = invoice_issue(invoice=draft, by=finance)
    note = credit_note_draft(invoice=invoice, reason="sales_return", by=finance)
    with pytest.raises(DomainError) as refused:
        credit_note_issue(credit_note=note, by=finance)
    assert refused.value.code == "red_letter_number"
    with pytest.raises(DomainError):
        credit_note_update_draft(credit_note=note, by=finance, red_letter_number="12345")
    credit_note_update_draft(credit_note=note, by=finance, red_letter_number="44030123456789012345")
    assert credit_note_issue(credit_note=note, by=finance).status == "issued"


def test_draft_invoice_cannot_be_credited_and_sales_cannot_credit(finance, make_user):
    invoice = issued_invoice(by=finance)
    with pytest.raises(PermissionRefused):
        credit_note_draft(invoice=invoice, reason="other", by=make_user("sales"))
    note = credit_note_draft(invoice=invoice, reason="other", by=finance)
    with pytest.raises(PermissionRefused):
        credit_note_issue(credit_note=note, by=make_user("manager"))
    credit_note_discard(credit_note=note, by=finance)
    invoice.refresh_from_db()
    assert invoice.amount_credited == 0


def test_return_with_refund_drafts_a_credit_note_once(finance):
    invoice = issued_invoice(by=finance, quantity=5)
    order_line = invoice.lines.get().order_line
    payload = {
        "return_id": 77,
        "return_number": "RMA-2026-000077",
        "order_id": order_line.order_id,
        "lines": [{"order_line_id": order_line.pk, "product_id": order_line.product_id, "quantity": 2}],
    }
    draft_credit_note_for_return(payload)
    draft_credit_note_for_return(payload)  # delivered twice
    note = CreditNote.objects.get()
    assert note.status == "draft" and note.reason == "sales_return"
    assert note.lines.get().quantity == 2
    assert note.events.get(kind="created").params == {"return": "RMA-2026-000077"}


def test_exception_refund_for_uninvoiced_units_drafts_nothing(finance):
    order = shipped_order()
    line = order.lines.get()
    draft_credit_note_for_delivery_exception(
        {
            "exception": 5,
            "order": order.pk,
            "shipment_number": "SH-1",
            "lines": [{"order_line": line.pk, "sku": "x", "quantity": 1}],
        }
    )
    assert not CreditNote.objects.exists()

"""The invoice's timeline words the money it received: a payment allocated, its undoing, a write-off
and its undoing, in the reader's language (nothing translated is stored)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models import CreditNoteEvent, InvoiceEvent
from billing.payments import services
from billing.payments.models import PaymentMethod, WriteOffReason
from billing.payments.tests.factories import issued_credit_note, issued_invoice, payment
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _sentences(invoice, language: str) -> list[str]:
    with translation.override(language):
        return [event.sentence for event in InvoiceEvent.objects.filter(invoice=invoice, kind="payment").order_by("pk")]


def test_payments_and_write_offs_on_the_invoice_timeline_are_worded_in_both_languages(make_user):
    finance = make_user("finance")
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, gross="1130.00")
    paid = payment(customer=customer, amount="1129.50", by=finance, allocations=[(invoice, "1129.50")])
    write_off = services.invoice_write_off(invoice=invoice, amount=Decimal("0.50"), reason=WriteOffReason.ROUNDING, by=finance)
    services.write_off_undo(write_off=write_off, by=finance)
    services.allocation_undo(allocation=paid.allocations.get(), by=finance)
    number = paid.number

    assert _sentences(invoice, "en") == [
        f"1129.50 paid by payment {number}.",
        "0.50 written off (Rounding difference).",
        "Write-off of 0.50 undone.",
        f"Allocation of 1129.50 from payment {number} undone.",
    ]
    assert _sentences(invoice, "zh-hans") == [
        f"收款 {number} 核销 1129.50。",
        "已转销 0.50（尾差）。",
        "已撤销 0.50 的转销。",
        f"已撤销收款 {number} 的 1129.50 核销。",
    ]


def test_the_invoice_page_shows_the_payment_sentence(client_as):
    client = client_as("finance")
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, gross="226.00")
    paid = payment(
        customer=customer, amount="226.00", by=client.user, method=PaymentMethod.ALIPAY, allocations=[(invoice, "226.00")]
    )
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert f"226.00 paid by payment {paid.number}." in page


def test_a_refund_on_a_credit_note_is_worded_on_its_timeline(make_user):
    finance = make_user("finance")
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, gross="1130.00")
    payment(customer=customer, amount="1130.00", by=finance, allocations=[(invoice, "1130.00")])
    note = issued_credit_note(invoice=invoice, gross="113.00")
    refund = services.refund_request(credit_note=note, amount=Decimal("113.00"), method=PaymentMethod.BANK_TRANSFER, by=finance)
    event = CreditNoteEvent.objects.get(credit_note=note, kind="refund")
    with translation.override("en"):
        assert event.sentence == f"Refund {refund.number} of 113.00 recorded."

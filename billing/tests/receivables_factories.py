"""Test data for receivables: issued invoices, credit notes and payments as rows with the amounts a
test needs (their own services are tested in their own modules)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from billing.models import CreditNote, CreditNoteReason, Invoice
from billing.payments.models import Payment, PaymentMethod
from config.money import ZERO

_numbers = itertools.count(1)


def at_noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def issued_invoice(
    *,
    customer,
    gross: str | Decimal,
    issued_on: date,
    due_date: date | None = None,
    paid: str | Decimal = ZERO,
    credited: str | Decimal = ZERO,
) -> Invoice:
    """An issued invoice of `gross` (no tax, so net = gross), with what is already paid and credited."""
    n = next(_numbers)
    gross = Decimal(gross)
    return Invoice.objects.create(
        customer=customer,
        status="issued",
        number=f"INV-T-{n:06d}",
        buyer_name=customer.name,
        total_net=gross,
        total_tax=ZERO,
        total_gross=gross,
        amount_paid=Decimal(paid),
        amount_credited=Decimal(credited),
        issued_at=at_noon(issued_on),
        due_date=due_date or issued_on,
    )


def issued_credit_note(*, invoice: Invoice, gross: str | Decimal, issued_on: date) -> CreditNote:
    n = next(_numbers)
    gross = Decimal(gross)
    return CreditNote.objects.create(
        invoice=invoice,
        customer=invoice.customer,
        status="issued",
        number=f"CN-T-{n:06d}",
        reason=CreditNoteReason.PRICE_CONCESSION,
        total_net=gross,
        total_tax=ZERO,
        total_gross=gross,
        issued_at=at_noon(issued_on),
    )


def received_payment(*, customer, amount: str | Decimal, on: date) -> Payment:
    n = next(_numbers)
    return Payment.objects.create(
        number=f"PAY-T-{n:06d}", customer=customer, date=on, amount=Decimal(amount), method=PaymentMethod.BANK_TRANSFER
    )


def pay(invoice: Invoice, amount: str | Decimal) -> None:
    """Record money against an invoice the way the payments services keep its running total."""
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.amount_paid + Decimal(amount))
    invoice.refresh_from_db()

"""Outbox handlers of payments: each takes the event's payload and is safe to run twice."""

from __future__ import annotations

from django.db import transaction

from billing.models import CreditNote
from billing.payments.status import orders_payment_status_refresh
from config.actors import Actor

SYSTEM = Actor.system("system")


def refresh_payment_status(payload: dict) -> None:
    """An invoice was issued: its orders are now unpaid (or paid, when advances already cover it)."""
    with transaction.atomic():
        orders_payment_status_refresh(invoice_ids=[payload["id"]], by=SYSTEM)


def refresh_payment_status_of_credit_note(payload: dict) -> None:
    """A credit note was issued: its invoice's orders may now be paid, or refunded."""
    invoice_id = CreditNote.objects.filter(pk=payload["id"]).values_list("invoice_id", flat=True).first()
    if invoice_id is None:
        return
    with transaction.atomic():
        orders_payment_status_refresh(invoice_ids=[invoice_id], by=SYSTEM)

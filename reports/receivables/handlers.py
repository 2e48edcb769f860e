"""Outbox handlers: the receivables snapshot follows billing."""

from __future__ import annotations

from billing.payments.models import Payment

from .snapshot import receivables_refresh


def refresh_after_billing_event(payload: dict) -> None:
    """An invoice or credit note issued: today's flows again, its open amounts at most once a minute (idempotent)."""
    receivables_refresh(force=False)


def refresh_after_payment(payload: dict) -> None:
    """A payment recorded, allocated or voided: its day's collections and today's flows again (idempotent)."""
    days = list(Payment.objects.filter(pk=payload.get("id")).values_list("date", flat=True))
    receivables_refresh(payment_days=days, force=False)

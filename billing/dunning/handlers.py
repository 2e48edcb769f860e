"""Outbox handlers of dunning: run after the transaction that created a reminder or recorded a
payment committed; safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from billing.dunning.models import CreditHold, PaymentReminder
from billing.dunning.services import credit_hold_release_if_paid
from config.documents import company_letterhead


def email_reminder(payload: dict) -> None:
    """A reminder was created: e-mail its letter to the customer, in their language, once."""
    payment_reminder_email(reminder_id=payload["id"])


def payment_reminder_email(*, reminder_id: int) -> bool:
    """Send the reminder's letter once (emailed_at records it); False when there is nothing to send or no one to send it to."""
    with transaction.atomic():
        reminder = (
            PaymentReminder.objects.select_for_update(of=("self",))
            .select_related("customer", "level")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.emailed_at is not None:
            return False
        customer = reminder.customer
        if not customer.email:
            return False
        lines = list(reminder.lines.select_related("invoice").order_by("due_date", "pk"))
        context = {"reminder": reminder, "customer": customer, "lines": lines, "company": company_letterhead()}
        with translation.override(customer.language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"billing/email/reminder_{reminder.kind}_subject.txt", context).strip()
            body = render_to_string(f"billing/email/reminder_{reminder.kind}.txt", context)
        message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[customer.email])
        mailers.default.send_messages([message])
        reminder.email = customer.email
        reminder.emailed_at = timezone.now()
        reminder.save(update_fields=["email", "emailed_at"])
    return True


def release_paid_holds(payload: dict) -> None:
    """A payment came in: release the paying customer's credit hold if nothing overdue at its level is left.
    A payload without the customer checks every active hold (there are few)."""
    customer_id = payload.get("customer_id") or payload.get("customer")
    if customer_id:
        customer_ids = [int(customer_id)]
    else:
        customer_ids = list(CreditHold.objects.filter(released_at__isnull=True).values_list("customer_id", flat=True))
    for pk in customer_ids:
        credit_hold_release_if_paid(customer_id=pk)

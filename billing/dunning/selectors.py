"""Reads of dunning: the reminders list, a customer's hold, and what the order review's overdue rule sees."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billing import selectors as invoice_selectors
from billing.dunning.models import CreditHold, DunningLevel, PaymentReminder
from billing.models import Invoice


def overdue_invoices_for_review(*, customer, older_than_days: int) -> QuerySet[Invoice]:
    """settings.OVERDUE_INVOICES_PROVIDER: the invoices the review's overdue rule reads. A customer on
    credit hold has every overdue invoice counted, so each new order goes to review until they are paid."""
    if CreditHold.objects.filter(customer=customer, released_at__isnull=True).exists():
        return invoice_selectors.overdue_invoices(customer, 0)
    return invoice_selectors.overdue_invoices_for_review(customer=customer, older_than_days=older_than_days)


def reminder_list(*, kind: str = "", search: str = "", emailed: str = "") -> QuerySet[PaymentReminder]:
    """Reminders, newest first, narrowed by letter, customer (code or name) and whether they were e-mailed."""
    reminders = PaymentReminder.objects.select_related("customer", "level")
    if kind:
        reminders = reminders.filter(kind=kind)
    if emailed == "yes":
        reminders = reminders.filter(emailed_at__isnull=False)
    elif emailed == "no":
        reminders = reminders.filter(emailed_at__isnull=True)
    search = (search or "").strip()
    if search:
        reminders = reminders.filter(
            Q(customer__code__iexact=search) | Q(customer__name__icontains=search) | Q(customer__alt_name__icontains=search)
        )
    return reminders.order_by("-created_at", "-pk")


def active_holds() -> QuerySet[CreditHold]:
    return CreditHold.objects.filter(released_at__isnull=True).select_related("customer", "level").order_by("placed_at", "pk")


def dunning_levels() -> list[DunningLevel]:
    return list(DunningLevel.objects.order_by("days_after_due", "pk"))

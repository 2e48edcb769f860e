"""Reads of dunning: the reminders list, a customer's hold, and what the order review's overdue rule sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.dunning.models import CreditHold, DunningLevel, PaymentReminder
from billing.models import Invoice, InvoiceStatus
from config.money import money_from_db
from config.rows import hot_cursor


@dataclass(frozen=True)
class OverdueInvoice:
    """What the order review's overdue rule reads of an invoice."""

    number: str
    due_date: date
    balance: Decimal


def overdue_invoices_for_review(*, customer, older_than_days: int) -> list[OverdueInvoice]:
    """settings.OVERDUE_INVOICES_PROVIDER: the invoices the review's overdue rule reads, oldest due first. A customer
    on credit hold has every overdue invoice counted, so each new order goes to review until they are paid."""
    quote = connection.ops.quote_name
    invoices, holds = quote(Invoice._meta.db_table), quote(CreditHold._meta.db_table)
    today = timezone.localdate()
    # One statement, raw and prepared (config.rows.hot_cursor): the review runs it on every order (the hold decides
    # which due date counts as overdue).
    with hot_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT i.number, i.due_date, i.total_gross - i.amount_credited - i.amount_paid FROM {invoices} i
             WHERE i.customer_id = %s AND i.status IN (%s) AND i.total_gross > i.amount_credited + i.amount_paid
               AND i.due_date < CASE WHEN EXISTS (SELECT 1 FROM {holds} h WHERE h.customer_id = %s AND h.released_at IS NULL)
                                     THEN %s ELSE %s END
             ORDER BY i.due_date, i.id
            """,
            [customer.pk, InvoiceStatus.ISSUED.value, customer.pk, today, today - timedelta(days=older_than_days)],
        )
        rows = cursor.fetchall()
    return [
        OverdueInvoice(
            number=number,
            due_date=due if isinstance(due, date) else date.fromisoformat(due),
            balance=money_from_db(balance),
        )
        for number, due, balance in rows
    ]


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

"""Reads of invoices and credit notes that other areas use (payments, receivables, the review's rules)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from .models import Invoice


def open_invoices(customer) -> QuerySet[Invoice]:
    """The customer's issued invoices with money still owed (gross − credited − paid > 0), oldest due first."""
    return Invoice.objects.filter(customer=customer).open().order_by("due_date", "pk")


def overdue_invoices(customer, days: int = 0, *, on: date | None = None) -> QuerySet[Invoice]:
    """The customer's open invoices more than `days` days past their due date (today, or `on`)."""
    return Invoice.objects.filter(customer=customer).overdue(on=on, days=days).order_by("due_date", "pk")


def overdue_invoices_for_review(*, customer, older_than_days: int) -> QuerySet[Invoice]:
    """settings.OVERDUE_INVOICES_PROVIDER: what the order review's overdue rule reads (number, due_date, balance)."""
    return overdue_invoices(customer, older_than_days)

"""Reads of bank statements and lines: lists, the reconciliation queue, and the home page's queue."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import WorkQueue, work_queue
from config.roles import FINANCE

from .models import RECONCILE_PERMISSION, BankImport, BankStatement, BankStatementLine, LineStatus


def statement_list() -> QuerySet[BankStatement]:
    return BankStatement.objects.select_related("account", "bank_import", "bank_import__imported_by")


def import_list() -> QuerySet[BankImport]:
    return BankImport.objects.select_related("imported_by")


def queue_lines() -> QuerySet[BankStatementLine]:
    """Money in still to match, oldest first: what the reconciliation queue shows by default."""
    return BankStatementLine.objects.filter(status=LineStatus.UNMATCHED, amount__gt=0).order_by("booking_date", "pk")


def line_list() -> QuerySet[BankStatementLine]:
    return BankStatementLine.objects.select_related("account", "customer").order_by("booking_date", "pk")


def line_search(queryset: QuerySet[BankStatementLine], text: str) -> QuerySet[BankStatementLine]:
    """Lines whose counterparty, memo or references contain the text (or whose amount is it)."""
    text = text.strip()
    if not text:
        return queryset
    condition = (
        Q(counterparty_name__icontains=text)
        | Q(memo__icontains=text)
        | Q(bank_ref__icontains=text)
        | Q(reference__icontains=text)
        | Q(counterparty_account__icontains=text)
    )
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is not None and amount.is_finite() and abs(amount) < Decimal("1e12"):
        condition |= Q(amount=amount) | Q(amount=-amount)
    return queryset.filter(condition)


def home_queues(user) -> list[WorkQueue]:
    """Finance: bank lines to match."""
    if not user.has_perm(RECONCILE_PERMISSION):
        return []
    return [
        work_queue(
            title=_("Bank lines to match"),
            url=reverse("billing:bankline_queue"),
            queryset=queue_lines(),
            empty_text=_("Every bank line is reconciled."),
            role=FINANCE,
        )
    ]

"""Scheduled work of payments: orders whose open invoices fell due become overdue."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, InvoiceLine
from billing.payments.status import order_payment_statuses
from config.actors import Actor
from orders.models import PaymentStatus, SalesOrder
from orders.payment_status import order_payment_status_set

BATCH = 500


def overdue_orders_refresh(*, today=None) -> int:
    """Store "overdue" on every unpaid or partly paid order with an open invoice past its due date;
    returns how many orders changed. Safe to run twice (an order already overdue is left alone)."""
    today = today or timezone.localdate()
    overdue_invoices = Invoice.objects.overdue(on=today).values("pk")
    order_ids = list(
        SalesOrder.objects.filter(
            payment_status__in=[PaymentStatus.UNPAID, PaymentStatus.PARTLY_PAID],
            pk__in=InvoiceLine.objects.filter(invoice__in=overdue_invoices).values("order_id"),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed = 0
    for start in range(0, len(order_ids), BATCH):
        with transaction.atomic():
            statuses = order_payment_statuses(order_ids=order_ids[start : start + BATCH], today=today)
            order_payment_status_set(statuses=statuses, by=Actor.system("system"))
            changed += sum(1 for status in statuses.values() if status == PaymentStatus.OVERDUE)
    return changed


@shared_task(name="billing.payments.tasks.mark_overdue_orders", ignore_result=True)
def mark_overdue_orders() -> None:
    overdue_orders_refresh()

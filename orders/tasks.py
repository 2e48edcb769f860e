"""Celery adapters for orders: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.actors import Actor

from .fulfilment.services import order_allocate
from .models import OrderStatus, SalesOrder
from .review.services import order_run_checks


@shared_task(name="orders.tasks.review_order", ignore_result=True)
def review_order(order_id: int) -> None:
    """Run the automatic checks on a submitted order; an order no longer submitted is left alone.

    Submissions reach the checks through the outbox now; this task stays registered so messages
    queued by an earlier release are still carried out, and for running the checks by hand."""
    with transaction.atomic():  # its own transaction, or a savepoint of the caller's (the checks keep none)
        order_run_checks(order_id=order_id)


def orders_stuck(*, minutes: int | None = None) -> dict[str, list[int]]:
    """Orders that waited longer than the sweeper's limit in `submitted` (checks) or `approved` (allocation)."""
    limit = timezone.now() - timedelta(minutes=settings.STUCK_ORDER_MINUTES if minutes is None else minutes)
    submitted = SalesOrder.objects.filter(status=OrderStatus.SUBMITTED, submitted_at__lt=limit)
    approved = SalesOrder.objects.filter(status=OrderStatus.APPROVED, approved_at__lt=limit)
    return {
        "submitted": list(submitted.order_by("submitted_at", "pk").values_list("pk", flat=True)[:500]),
        "approved": list(approved.order_by("approved_at", "pk").values_list("pk", flat=True)[:500]),
    }


@shared_task(name="orders.tasks.sweep_stuck_orders", ignore_result=True)
def sweep_stuck_orders(minutes: int | None = None) -> dict[str, int]:
    """The safety net behind the outbox: orders stuck in `submitted` or `approved` past the limit are
    checked or allocated now, each in its own transaction (both services do nothing twice)."""
    stuck = orders_stuck(minutes=minutes)
    for order_id in stuck["submitted"]:
        with transaction.atomic():  # each order on its own (the checks keep no savepoint of their own)
            order_run_checks(order_id=order_id)
    for order in SalesOrder.objects.filter(pk__in=stuck["approved"]).order_by("approved_at", "pk"):
        order_allocate(order=order, by=Actor.system("sweeper"))
    return {state: len(ids) for state, ids in stuck.items()}

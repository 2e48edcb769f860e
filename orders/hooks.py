"""Where the order's life reaches other apps: after approval, stock is allocated; on cancel,
reservations are released. Kept in one place so orders.services stays free of stock details."""

from __future__ import annotations

from django.db import transaction

from .models import SalesOrder


def order_approved(*, order: SalesOrder) -> None:
    """Called inside the approving transaction: allocation is queued to run after commit."""
    from inventory.tasks import allocate_order

    order_id = order.pk
    transaction.on_commit(lambda: allocate_order.delay(order_id), robust=True)


def order_cancelled(*, order: SalesOrder, by=None) -> None:
    """Called inside the cancelling transaction: the order's active reservations are released."""
    from inventory.allocation import reservation_release_for_order

    reservation_release_for_order(order=order, by=by)

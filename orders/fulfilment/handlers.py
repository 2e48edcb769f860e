"""Outbox handlers of fulfilment: each takes the event's payload and is safe to run twice."""

from __future__ import annotations

from config.actors import Actor
from config.outbox import outbox_database_only, own_transactions

from .services import order_allocate_id, order_allocate_waiting, order_reservations_lost


@outbox_database_only
def allocate(payload: dict) -> None:
    """An order was approved: reserve its stock (an order no longer waiting is left alone)."""
    order_allocate_id(order_id=payload["id"], by=Actor.system("allocation"))


@own_transactions
def allocate_waiting(payload: dict) -> None:
    """Stock arrived: waiting orders that need these products get it, oldest approval first."""
    order_allocate_waiting(by=Actor.system("allocation"), product_ids=payload.get("product_ids"))


@own_transactions
def reservations_lost(payload: dict) -> None:
    """A stock count took reserved stock away: those orders wait for stock again."""
    order_reservations_lost(order_line_ids=payload.get("order_line_ids", []), document=payload.get("document", ""))

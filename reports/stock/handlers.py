"""Outbox handlers: the stock snapshot follows the ledger."""

from __future__ import annotations

from django.utils import timezone

from config.outbox import outbox_event_aware

from .snapshot import stock_snapshot_refresh


@outbox_event_aware
def refresh_after_movements(payload: dict, *, event) -> None:
    """inventory.stock_moved: the named products' rows from the day of the movements on (idempotent)."""
    since = timezone.localdate(event.created_at, timezone=timezone.get_default_timezone())
    stock_snapshot_refresh(product_ids=payload.get("product_ids", []), since=since)

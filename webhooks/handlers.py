"""The outbox handler: business events become webhook events for the endpoints that want them."""

from __future__ import annotations

from config.outbox import OutboxEvent, outbox_database_only, outbox_event_aware

from .services import webhook_event_record


@outbox_database_only
@outbox_event_aware
def record_event(payload: dict, *, event: OutboxEvent) -> None:
    """Runs in the event's dispatch transaction: the deliveries are written exactly once with it."""
    webhook_event_record(event=event)

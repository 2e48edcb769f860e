"""Outbox handlers of delivery exceptions: run after commit, safe to run twice."""

from __future__ import annotations

from logistics.exceptions.services import exception_notify_salesperson, exceptions_resolve_delivered


def notify_salesperson(payload: dict) -> None:
    """An exception opened: the order's salesperson sees it in the app."""
    exception_notify_salesperson(exception_id=payload["exception"])


def settle_delivered(payload: dict) -> None:
    """A shipment was delivered (tracking or by hand): its open exceptions are settled as delivered."""
    exceptions_resolve_delivered(shipment_id=payload["id"])

"""Celery adapters of delivery exceptions: each calls one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from logistics.exceptions.services import exceptions_escalate, exceptions_open_late


@shared_task(name="logistics.exceptions.watch_deliveries", ignore_result=True)
def watch_deliveries() -> int:
    """Open a "late" exception for each shipment past its ETA, then escalate those open too long."""
    opened = exceptions_open_late()
    exceptions_escalate()
    return len(opened)

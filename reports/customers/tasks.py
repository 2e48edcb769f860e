"""The nightly rebuild of the customer snapshot (Celery beat, see the reports block of config/settings.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from .snapshot import customer_snapshot_rebuild

logger = logging.getLogger(__name__)


@shared_task(name="reports.customers.tasks.rebuild_customer_snapshot", ignore_result=True)
def rebuild_customer_snapshot() -> int:
    """Rebuild every customer's snapshot and the RFM bounds (safe to run twice: it starts from scratch)."""
    count = customer_snapshot_rebuild()
    logger.info("customer snapshot rebuilt: %s customers", count)
    return count

"""Celery adapters of fulfilment: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from .bulk import bulk_allocation_stale, bulk_allocation_work
from .models import BulkAllocation

logger = logging.getLogger(__name__)


@shared_task(name="orders.fulfilment.allocate_all_waiting", ignore_result=True)
def allocate_all_waiting(run_id: int) -> None:
    """Work through one "allocate all" run in batches; a second copy finds it held and stops."""
    bulk_allocation_work(run_id)


@shared_task(name="orders.fulfilment.resume_bulk_allocations", ignore_result=True)
def resume_bulk_allocations() -> int:
    """Beat's safety net: a running "allocate all" whose worker died or whose message was lost goes on."""
    stale = [run for run in BulkAllocation.objects.filter(running=True) if bulk_allocation_stale(run)]
    for run in stale:
        allocate_all_waiting.delay(run.pk)
    return len(stale)


def bulk_allocation_kick(run: BulkAllocation) -> None:
    """Ask a worker to work through the run; with the broker down, beat's resume picks it up later."""
    try:
        allocate_all_waiting.delay(run.pk)
    except OperationalError as error:
        logger.warning("bulk allocation %s: could not reach the broker (%s); beat resumes it", run.pk, error)

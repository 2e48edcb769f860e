"""Celery adapter of dunning: the daily run, safe to run any number of times a day."""

from __future__ import annotations

import logging

from celery import shared_task

from billing.dunning.services import dunning_run

logger = logging.getLogger(__name__)


@shared_task(name="billing.dunning.tasks.run_dunning", ignore_result=True)
def run_dunning() -> dict[str, int]:
    """Beat, daily: remind customers of invoices that reached a dunning level, hold and release credit."""
    result = dunning_run()
    summary = {
        "reminders": len(result.reminders),
        "holds_placed": result.holds_placed,
        "holds_released": result.holds_released,
    }
    logger.info("dunning run: %s", summary)
    return summary

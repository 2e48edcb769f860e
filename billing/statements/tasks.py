"""Celery adapter of statements: the monthly run, safe to run twice (a second run sends nothing)."""

from __future__ import annotations

import logging

from celery import shared_task

from billing.statements.services import monthly_statements_send

logger = logging.getLogger(__name__)


@shared_task(name="billing.statements.tasks.send_monthly_statements", ignore_result=True)
def send_monthly_statements() -> dict[str, int]:
    """Beat, on the 1st: last month's statement to every customer with activity in it."""
    result = monthly_statements_send()
    summary = {"made": len(result.made), "sent": result.sent, "left_as_draft": result.left_as_draft}
    logger.info("monthly statements: %s", summary)
    return summary

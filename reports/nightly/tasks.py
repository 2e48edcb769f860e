"""Celery adapter of the nightly report: beat starts it at NIGHTLY_REPORT_TIME; a failed attempt is retried
with a growing delay, and the last one tells the managers."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from .services import nightly_report_attempt_failed, nightly_report_day, nightly_report_run

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: NIGHTLY_REPORT_RETRY_SECONDS, doubling, at most NIGHTLY_REPORT_RETRY_MAX_SECONDS."""
    return get_exponential_backoff_interval(
        factor=settings.NIGHTLY_REPORT_RETRY_SECONDS,
        retries=retries,
        maximum=settings.NIGHTLY_REPORT_RETRY_MAX_SECONDS,
        full_jitter=False,
    )


@shared_task(bind=True, name="reports.nightly.send_nightly_report", ignore_result=True)
def send_nightly_report(self, day: str | None = None) -> None:
    """Make yesterday's manager report (or `day`'s, ISO) and e-mail it to the managers; safe to run twice."""
    # The day is fixed at the first attempt: a retry after midnight still makes the same day's report.
    day = day or nightly_report_day().isoformat()
    try:
        report = nightly_report_run(day=date.fromisoformat(day))
    except Exception as exc:
        final = self.request.retries >= settings.NIGHTLY_REPORT_RETRIES
        nightly_report_attempt_failed(day=date.fromisoformat(day), error=exc, final=final)
        if final:
            logger.exception("nightly report of %s failed after %s retries", day, self.request.retries)
            raise
        logger.warning("nightly report of %s failed (%r); retrying", day, exc)
        raise self.retry(
            exc=exc, args=(), kwargs={"day": day}, countdown=retry_delay(self.request.retries), max_retries=None
        ) from exc
    logger.info("nightly report of %s: %s", day, report.state)

"""The nightly run of the sales facts (Celery beat, `# reports` block of config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from .nightly import sales_facts_nightly


@shared_task(name="reports.sales.tasks.rebuild_sales_facts", ignore_result=True)
def rebuild_sales_facts(full: bool = False) -> None:
    """Nightly: the orders whose facts may have changed since the last run, and a slice of all of them in
    turn, computed again; in full (every fact computed afresh and compared) on the first run, on Sundays and
    when called with full=True. Safe to run twice."""
    sales_facts_nightly(full=full)

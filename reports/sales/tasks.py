"""The nightly full rebuild of the sales facts (Celery beat, `# reports` block of config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from .facts import sales_facts_rebuild


@shared_task(name="reports.sales.tasks.rebuild_sales_facts", ignore_result=True)
def rebuild_sales_facts() -> None:
    """Recompute every sales and margin fact; safe to run twice (it replaces the tables whole)."""
    sales_facts_rebuild()

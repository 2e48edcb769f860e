"""Celery adapter of the batched report refresh (reports.dirty): beat runs it every REPORTS_BATCH_SECONDS."""

from __future__ import annotations

from celery import shared_task

from .dirty import dirty_refresh


@shared_task(name="reports.refresh_dirty", ignore_result=True)
def refresh_dirty() -> dict[str, int]:
    """Refresh the report rows of every marked order and customer; safe to run twice (each batch takes its marks)."""
    return dirty_refresh()

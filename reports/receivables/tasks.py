"""Celery adapters for the receivables snapshot; each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .snapshot import receivables_rebuild, receivables_refresh


@shared_task(name="reports.receivables.refresh", ignore_result=True)
def refresh_receivables_snapshot() -> None:
    """Every few minutes: today's receivables (ageing moves on with the clock; undone allocations have no event)."""
    receivables_refresh()


@shared_task(name="reports.receivables.rebuild", ignore_result=True)
def rebuild_receivables_snapshot() -> None:
    """Nightly: every day's receivables again from billing."""
    receivables_rebuild()

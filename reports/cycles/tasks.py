"""Celery adapters for the cycle snapshot: safe to run twice (each recomputes from the business tables)."""

from __future__ import annotations

from celery import shared_task

from .refresh import cycles_nightly


@shared_task(name="reports.cycles.rebuild", ignore_result=True)
def rebuild_cycles(full: bool = False) -> None:
    """Nightly: the orders that changed since the last run, and a slice of all of them in turn, computed
    again (cycles_nightly); the first run builds the snapshot in full; with full=True every row is computed
    afresh and only those that differ are written."""
    cycles_nightly(full=full)

"""Celery adapters for the cycle snapshot: safe to run twice (each recomputes from the business tables)."""

from __future__ import annotations

from celery import shared_task

from .refresh import cycles_rebuild


@shared_task(name="reports.cycles.rebuild", ignore_result=True)
def rebuild_cycles() -> None:
    """The nightly full rebuild of the order cycle snapshot and its weekly and daily figures."""
    cycles_rebuild()

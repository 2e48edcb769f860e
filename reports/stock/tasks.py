"""Celery adapters for the stock snapshot; each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .snapshot import stock_snapshot_rebuild, stock_snapshot_reconcile


@shared_task(name="reports.stock.reconcile", ignore_result=True)
def reconcile_stock_snapshot() -> None:
    """Every few minutes: products whose stock rows moved on without the snapshot (reserved stock) are refreshed."""
    stock_snapshot_reconcile()


@shared_task(name="reports.stock.rebuild", ignore_result=True)
def rebuild_stock_snapshot() -> None:
    """Nightly: the whole snapshot again from the ledger (keeping the reserved and costs rows were written with)."""
    stock_snapshot_rebuild()

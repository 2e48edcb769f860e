"""Celery adapters for the stock snapshot; each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .snapshot import stock_snapshot_nightly, stock_snapshot_reconcile


@shared_task(name="reports.stock.reconcile", ignore_result=True)
def reconcile_stock_snapshot() -> None:
    """Every few minutes: products whose stock rows moved on without the snapshot (reserved stock) are refreshed."""
    stock_snapshot_reconcile()


@shared_task(name="reports.stock.rebuild", ignore_result=True)
def rebuild_stock_snapshot(full: bool = False) -> None:
    """Nightly: the last days again from the ledger, every product checked against its stock rows; in `full`, every
    row checked against the ledger and the products off it rebuilt (stock_snapshot_nightly)."""
    stock_snapshot_nightly(full=full)

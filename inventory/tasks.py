"""Celery adapters for stock: each takes ids, calls one service, and is safe to run twice.

The alert tasks live beside the alerts they run (inventory.stock.alerts) and are imported here so a
worker that loads inventory.tasks registers every task of the app.
"""

from __future__ import annotations

from celery import shared_task

from .stock.alerts import check_low_stock, notify_low_stock_alerts, scan_low_stock, send_ledger_check_failure
from .stock.services import stock_verify_ledger

__all__ = ["check_low_stock", "notify_low_stock_alerts", "scan_low_stock", "send_ledger_check_failure", "verify_stock_ledger"]


@shared_task(name="inventory.tasks.verify_stock_ledger", ignore_result=True)
def verify_stock_ledger() -> None:
    """Nightly: on hand = Σ movements and reserved = Σ active reservations, recorded as a LedgerCheck."""
    stock_verify_ledger()

"""Celery adapters for stock: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

MAIL_RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


@shared_task(name="inventory.tasks.check_low_stock", ignore_result=True)
def check_low_stock(level_ids: list[int]) -> None:
    """After a movement or a reservation change: raise or resolve the alerts of these stock rows."""
    from .alerts import low_stock_refresh

    low_stock_refresh(level_ids=level_ids)


@shared_task(name="inventory.tasks.scan_low_stock", ignore_result=True)
def scan_low_stock() -> None:
    """Periodic safety net: compare every stock row with its safety stock."""
    from .alerts import low_stock_refresh

    low_stock_refresh(level_ids=None)


@shared_task(name="inventory.tasks.notify_low_stock_alerts", ignore_result=True, **MAIL_RETRY)
def notify_low_stock_alerts() -> None:
    """Email the warehouse the alerts raised since the last email."""
    from .alerts import alerts_email_pending

    alerts_email_pending()


@shared_task(name="inventory.tasks.verify_stock_ledger", ignore_result=True)
def verify_stock_ledger() -> None:
    """Nightly: on hand = Σ movements and reserved = Σ active reservations, recorded as a LedgerCheck."""
    from .services import stock_verify_ledger

    stock_verify_ledger()


@shared_task(name="inventory.tasks.send_ledger_check_failure", ignore_result=True, **MAIL_RETRY)
def send_ledger_check_failure(check_id: int) -> None:
    """Email managers and warehouse staff that the ledger check failed."""
    from .alerts import ledger_check_email_failure

    ledger_check_email_failure(check_id=check_id)

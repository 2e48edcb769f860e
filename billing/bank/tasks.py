"""Celery adapters of the bank statement import: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import BankImport
from .services import bank_import_apply_pending

logger = logging.getLogger(__name__)
# An import still applying its matches this long after it was uploaded lost its worker or message.
STALE_AFTER = timedelta(minutes=30)


@shared_task(name="billing.bank.apply_exact_matches", ignore_result=True)
def apply_exact_matches(bank_import_id: int) -> None:
    """Apply the exact matches an import left for the background."""
    bank_import_apply_pending(bank_import_id=bank_import_id)


@shared_task(name="billing.bank.resume_exact_matches", ignore_result=True)
def resume_exact_matches() -> int:
    """Beat's safety net: an import whose matches were never applied (broker down, worker killed) goes on."""
    stale = list(
        BankImport.objects.filter(auto_apply_pending=True, imported_at__lt=timezone.now() - STALE_AFTER).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        apply_exact_matches.delay(pk)
    return len(stale)


def exact_matches_kick(bank_import: BankImport) -> None:
    """Ask a worker to apply an import's pending matches; with the broker down, beat resumes it later."""
    if not bank_import.auto_apply_pending:
        return
    try:
        apply_exact_matches.delay(bank_import.pk)
    except OperationalError as error:
        logger.warning("bank import %s: could not reach the broker (%s); beat resumes it", bank_import.pk, error)

"""Background work of the channel API: adapters that call a service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from api.services import idempotency_keys_delete_expired

logger = logging.getLogger(__name__)


@shared_task(name="api.tasks.delete_expired_idempotency_keys", ignore_result=True)
def delete_expired_idempotency_keys() -> None:
    """Beat: forget idempotency keys past their keeping time (at least a day)."""
    deleted = idempotency_keys_delete_expired()
    if deleted:
        logger.info("deleted %s expired idempotency keys", deleted)

"""Delivered webhooks are kept WEBHOOKS_KEEP_DAYS for the log, then forgotten; pending and given-up
ones are kept until they are delivered or replayed (or their endpoint is deleted)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import WebhookAttempt, WebhookDelivery, WebhookMessage

CHUNK = 5000


def webhooks_forget_old() -> int:
    """Delete delivered deliveries older than the keep period (with their attempts), and events no
    delivery refers to any more; returns how many deliveries went."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                WebhookDelivery.objects.filter(delivered_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:CHUNK]
            )
            if not ids:
                break
            WebhookAttempt.objects.filter(delivery_id__in=ids).delete()
            WebhookDelivery.objects.filter(pk__in=ids).delete()
            removed += len(ids)
    orphans = WebhookMessage.objects.filter(created_at__lt=cutoff).exclude(
        Exists(WebhookDelivery.objects.filter(message=OuterRef("pk")))
    )
    orphans.delete()
    return removed

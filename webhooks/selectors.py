"""Reads of the webhook pages."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from config.pagination import COUNT_CAP

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

PENDING = Q(delivered_at__isnull=True, failed_at__isnull=True)
OUTCOME_FILTERS = {
    WebhookDelivery.Outcome.PENDING: PENDING,
    WebhookDelivery.Outcome.DELIVERED: Q(delivered_at__isnull=False),
    WebhookDelivery.Outcome.FAILED: Q(failed_at__isnull=False),
}


def _count(deliveries: QuerySet[WebhookDelivery]) -> Subquery:
    return Subquery(deliveries.order_by().values("endpoint").annotate(n=Count("pk")).values("n"), output_field=IntegerField())


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Every endpoint, newest first, with how many deliveries wait and how many were given up
    (both read from partial indexes: delivered ones are not counted)."""
    return WebhookEndpoint.objects.annotate(
        pending_count=Coalesce(_count(WebhookDelivery.objects.filter(PENDING, endpoint=OuterRef("pk"))), 0),
        failed_count=Coalesce(_count(WebhookDelivery.objects.filter(endpoint=OuterRef("pk"), failed_at__isnull=False)), 0),
    ).order_by("-created_at", "-pk")


def endpoint_search(queryset: QuerySet[WebhookEndpoint], text: str) -> QuerySet[WebhookEndpoint]:
    text = (text or "").strip()
    if not text:
        return queryset
    return queryset.filter(Q(url__icontains=text) | Q(description__icontains=text))


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")


def delivery_outcome_filter(queryset: QuerySet[WebhookDelivery], outcome: str) -> QuerySet[WebhookDelivery]:
    condition = OUTCOME_FILTERS.get(outcome)
    return queryset.filter(condition) if condition is not None else queryset


def delivery_counts(*, endpoint: WebhookEndpoint) -> dict[str, int | str]:
    """Waiting and given-up deliveries, exactly; delivered ones up to COUNT_CAP ("10000+" past it)."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    counts: dict[str, int | str] = {
        "pending": deliveries.filter(PENDING).count(),
        "failed": deliveries.filter(failed_at__isnull=False).count(),
    }
    delivered = deliveries.filter(delivered_at__isnull=False).order_by()[: COUNT_CAP + 1].count()
    counts["delivered"] = f"{COUNT_CAP}+" if delivered > COUNT_CAP else delivered
    return counts


def delivery_attempts(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return delivery.attempt_log.order_by("-started_at", "-pk")

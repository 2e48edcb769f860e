"""Outgoing webhooks: the endpoints managers register, the events recorded for them, one delivery of
an event per endpoint, and every attempt to send it.

A delivery is pending until it is delivered (a 2xx answer) or given up (a 4xx other than 408/429,
or its retry window passed): like the outbox, it says where it stands by its timestamps.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .topics import TOPIC_CHOICES


class DisabledReason(models.TextChoices):
    MANAGER = "manager", _("Disabled by a manager")
    FAILURES = "failures", _("Disabled after failed deliveries")


class WebhookEndpoint(models.Model):
    """A receiver's URL, the topics it wants and the secret its requests are signed with."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    topics = models.JSONField(_("topics"), default=list)
    # Signing needs the secret itself: it is kept as is, shown to those who manage endpoints only.
    secret = models.CharField(_("secret"), max_length=100)
    # After a rotation the old secret signs too, until then, so a receiver can switch without losing requests.
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=20, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    # While the receiver fails, nothing is sent to it before this time (one attempt probes it then).
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-pk"]
        permissions = [("replay_webhookendpoint", _("Can replay webhook deliveries"))]

    def __str__(self) -> str:
        return self.url

    def get_absolute_url(self) -> str:
        return reverse("webhooks:endpoint_detail", args=[self.pk])

    @property
    def keeps_queue(self) -> bool:
        """Events are recorded for it: enabled, or disabled only because its receiver kept failing."""
        return self.is_active or self.disabled_reason == DisabledReason.FAILURES

    def topic_labels(self) -> list[str]:
        labels = dict(TOPIC_CHOICES)
        return [str(labels.get(topic, topic)) for topic in self.topics]


class WebhookSequence(models.Model):
    """The last sequence number given to an event of one aggregate (an order, an invoice, a product)."""

    aggregate_type = models.CharField(_("aggregate type"), max_length=30)
    aggregate_id = models.CharField(_("aggregate id"), max_length=40)
    last = models.PositiveBigIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("webhook sequence")
        verbose_name_plural = _("webhook sequences")
        constraints = [
            models.UniqueConstraint(fields=["aggregate_type", "aggregate_id"], name="webhook_sequence_one_per_aggregate")
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} = {self.last}"


class WebhookMessage(models.Model):
    """One event as receivers get it: its id, type, sequence and the exact body sent, kept once so
    that every retry and replay sends the same bytes."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("topic"), max_length=40, choices=TOPIC_CHOICES)
    occurred_at = models.DateTimeField(_("occurred"))
    aggregate_type = models.CharField(_("aggregate type"), max_length=30)
    aggregate_id = models.CharField(_("aggregate id"), max_length=40)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    body = models.TextField(_("body"))
    # The outbox event it came from: recording one event twice is refused by the database.
    source_event_id = models.BigIntegerField(_("outbox event"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"], name="webhook_message_sequence_unique"
            ),
            models.UniqueConstraint(
                fields=["source_event_id", "aggregate_type", "aggregate_id"], name="webhook_message_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: pending until delivered or given up; claimed by a worker with a lease."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        REFUSED = "refused", _("The receiver refused it (4xx)")
        EXPIRED = "expired", _("Retries ran out")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint"))
    message = models.ForeignKey(WebhookMessage, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event"))
    # Copied from the message: what ordering per aggregate reads without a join.
    aggregate_type = models.CharField(_("aggregate type"), max_length=30)
    aggregate_id = models.CharField(_("aggregate id"), max_length=40)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    type = models.CharField(_("topic"), max_length=40, choices=TOPIC_CHOICES)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    retry_until = models.DateTimeField(_("retried until"))
    leased_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)
    failure = models.CharField(_("why given up"), max_length=20, choices=Failure.choices, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "message"], name="webhook_delivery_once_per_endpoint")]
        indexes = [
            # What the workers claim: due, pending deliveries of an endpoint.
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                name="webhook_delivery_due",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
            # What ordering reads: the earlier pending events of the same aggregate for the same endpoint.
            models.Index(
                fields=["endpoint", "aggregate_type", "aggregate_id", "sequence"],
                name="webhook_delivery_in_order",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_newest"),
            models.Index(fields=["endpoint", "id"], name="webhook_delivery_failed", condition=Q(failed_at__isnull=False)),
            # "What did we send about SO-2026-000123?": the log's subject filter.
            models.Index(fields=["aggregate_id", "endpoint"], name="webhook_delivery_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.endpoint_id}"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:delivery_detail", args=[self.pk])

    @property
    def outcome(self) -> str:
        if self.delivered_at is not None:
            return self.Outcome.DELIVERED
        if self.failed_at is not None:
            return self.Outcome.FAILED
        return self.Outcome.PENDING

    def get_outcome_display(self) -> str:
        return str(self.Outcome(self.outcome).label)


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, what the receiver answered (or why there was no answer)."""

    class Error(models.TextChoices):
        TIMEOUT = "timeout", _("No answer in time")
        CONNECTION = "connection", _("Could not connect")
        ADDRESS = "address", _("Address not allowed")
        DNS = "dns", _("Host name not found")
        TLS = "tls", _("TLS error")
        OTHER = "other", _("Other error")

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    response_excerpt = models.CharField(_("response (start)"), max_length=1024, blank=True)
    error = models.CharField(_("error"), max_length=20, choices=Error.choices, blank=True)
    error_detail = models.CharField(_("error detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

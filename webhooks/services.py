"""Managing webhook endpoints, recording events for them, and replaying deliveries."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.outbox import OutboxEvent
from config.rows import hot_cursor
from logistics.models import Shipment

from .addresses import webhook_target
from .models import DisabledReason, WebhookDelivery, WebhookEndpoint, WebhookMessage, WebhookSequence
from .payloads import BUILDERS, Subject
from .signing import secret_generate
from .tasks import deliver_webhooks
from .topics import INTERNAL_TOPICS, TOPICS

HANDLER = "webhooks.handlers.record_event"
# The order's own transitions (the payload's "id" is the order).
ORDER_TRANSITION_TOPICS = [topic for topic in INTERNAL_TOPICS if topic.startswith("orders.salesorder.")]


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))


def _clean_topics(topics: list[str]) -> list[str]:
    chosen = [topic for topic in TOPICS if topic in set(topics)]
    if not chosen:
        raise DomainError(_("Choose at least one topic."), field="topics")
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        raise DomainError(_("Unknown topic: %(topics)s.") % {"topics": ", ".join(unknown)}, field="topics")
    return chosen


def _retry_window() -> timedelta:
    return timedelta(hours=settings.WEBHOOKS_RETRY_HOURS)


# --- endpoints ---------------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(
    *, url: str, topics: list[str], by, description: str = "", enabled: bool = True, check_address: bool = True
) -> WebhookEndpoint:
    """A manager registers a receiver: its URL must be allowed (https, an address that is not internal);
    a secret is generated for it. Only the demo data skips the address check (for a disabled endpoint
    on this machine): every request is checked again anyway."""
    actor = Actor.of(by)
    _require(actor, "webhooks.add_webhookendpoint")
    url = (url or "").strip()
    if check_address or enabled:
        webhook_target(url)
    return WebhookEndpoint.objects.create(
        url=url,
        description=(description or "").strip(),
        topics=_clean_topics(topics),
        secret=secret_generate(),
        is_active=enabled,
        disabled_reason="" if enabled else DisabledReason.MANAGER,
        disabled_at=None if enabled else timezone.now(),
        created_by=actor.user,
    )


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if found is None:
        raise DomainError(_("This webhook endpoint was deleted."), code="not_found")
    return found


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, url: str, topics: list[str], description: str, by) -> WebhookEndpoint:
    """Change the URL (checked again), the topics (for events from now on) and the description."""
    actor = Actor.of(by)
    _require(actor, "webhooks.change_webhookendpoint")
    url = (url or "").strip()
    webhook_target(url)
    locked = _lock(endpoint)
    locked.url = url
    locked.topics = _clean_topics(topics)
    locked.description = (description or "").strip()
    locked.save(update_fields=["url", "topics", "description", "updated_at"])
    return locked


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, by) -> WebhookEndpoint:
    """A manager stops an endpoint: nothing is sent to it, and events from now on are not kept for it."""
    actor = Actor.of(by)
    _require(actor, "webhooks.change_webhookendpoint")
    locked = _lock(endpoint)
    locked.is_active = False
    locked.disabled_reason = DisabledReason.MANAGER
    locked.disabled_at = timezone.now()
    locked.save(update_fields=["is_active", "disabled_reason", "disabled_at", "updated_at"])
    return locked


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, by) -> WebhookEndpoint:
    """Enable an endpoint again (its URL must still be allowed): what waits for it goes out now, in
    order, with a fresh retry window."""
    actor = Actor.of(by)
    _require(actor, "webhooks.change_webhookendpoint")
    locked = _lock(endpoint)
    webhook_target(locked.url)
    now = timezone.now()
    locked.is_active = True
    locked.disabled_reason = ""
    locked.disabled_at = None
    locked.consecutive_failures = 0
    locked.paused_until = None
    locked.save(
        update_fields=["is_active", "disabled_reason", "disabled_at", "consecutive_failures", "paused_until", "updated_at"]
    )
    WebhookDelivery.objects.filter(endpoint=locked, delivered_at__isnull=True, failed_at__isnull=True).update(
        next_attempt_at=now, retry_until=now + _retry_window()
    )
    transaction.on_commit(_kick, robust=True)
    return locked


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too for WEBHOOKS_SECRET_GRACE_HOURS, so the
    receiver can switch without refusing anything."""
    actor = Actor.of(by)
    _require(actor, "webhooks.change_webhookendpoint")
    locked = _lock(endpoint)
    locked.previous_secret = locked.secret
    locked.previous_secret_until = timezone.now() + timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)
    locked.secret = secret_generate()
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return locked


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by) -> None:
    """Remove the endpoint with its deliveries and their attempts."""
    actor = Actor.of(by)
    _require(actor, "webhooks.delete_webhookendpoint")
    locked = _lock(endpoint)
    locked.delete()


# --- recording events --------------------------------------------------------------------------


class EarlierEventPending(Exception):
    """An earlier event of the same order is not recorded for webhooks yet: this one waits (the outbox retries it)."""


def _wait_for_earlier_events(*, event: OutboxEvent, order_id: int) -> None:
    """Events of one order get their sequence numbers in the order they happened: when an earlier event
    of this order is still waiting for this handler (its dispatch failed, or another dispatcher holds it
    right now), this one is refused for now and the outbox tries it again shortly."""
    subscribed = [topic for topic in ORDER_TRANSITION_TOPICS if HANDLER in settings.OUTBOX_HANDLERS.get(topic, [])]
    same_order = (
        Q(topic__in=subscribed, payload__id=order_id)
        | Q(
            topic="logistics.shipment.ship",
            payload__id__in=list(Shipment.objects.filter(order_id=order_id).values_list("pk", flat=True)),
        )
        | Q(topic="logistics.shipment_exception_opened", payload__order=order_id)
    )
    earlier = OutboxEvent.objects.filter(same_order, pk__lt=event.pk, dispatched_at__isnull=True, failed_at__isnull=True)
    waiting = [pk for pk, handled in earlier.values_list("pk", "handled") if HANDLER not in (handled or [])]
    if waiting:
        raise EarlierEventPending(f"outbox event {waiting[0]} of the same order is not recorded for webhooks yet")


def _next_sequence(*, aggregate_type: str, aggregate_id: str) -> int:
    """The subject's next sequence number; its counter row stays locked until the transaction ends,
    so two events of one subject never share a number."""
    table = WebhookSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (aggregate_type, aggregate_id, last) VALUES (%s, %s, 1) "  # noqa: S608  (our table name)
            f"ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [aggregate_type, aggregate_id],
        )
        return cursor.fetchone()[0]


def message_body(*, message_id: uuid.UUID, topic: str, occurred_at: datetime, sequence: int, subject: Subject) -> str:
    """The JSON body receivers get, written once."""
    return json.dumps(
        {
            "id": str(message_id),
            "type": topic,
            "occurred_at": occurred_at.isoformat(),
            "sequence": sequence,
            "subject": {"type": subject.type, "id": subject.key},
            "data": subject.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _kick() -> None:
    deliver_webhooks.delay()


def webhook_event_record(*, event: OutboxEvent) -> list[WebhookMessage]:
    """In the outbox event's transaction: one message per subject the event is about, and one delivery
    of it per endpoint that wants its topic (enabled, or paused after failures: its queue is kept)."""
    topic = INTERNAL_TOPICS.get(event.topic)
    if topic is None:
        return []
    # Ids and topics only: most events of an installation with few endpoints match none of them.
    # Raw SQL, prepared (config.rows.hot_cursor): every order event asks.
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT id, topics FROM {WebhookEndpoint._meta.db_table} WHERE is_active OR disabled_reason = %s ORDER BY id",
            [DisabledReason.FAILURES.value],
        )
        rows = cursor.fetchall()
    topics_field = WebhookEndpoint._meta.get_field("topics")
    endpoints = [endpoint_id for endpoint_id, topics in rows if topic in topics_field.from_db_value(topics, None, connection)]
    if not endpoints:
        return []
    if WebhookMessage.objects.filter(source_event_id=event.pk).exists():
        return []  # recorded already
    subjects = BUILDERS[event.topic](event.payload)
    now = timezone.now()
    messages = []
    for subject in subjects:
        if subject.order_id is not None:
            _wait_for_earlier_events(event=event, order_id=subject.order_id)
        sequence = _next_sequence(aggregate_type=subject.type, aggregate_id=subject.key)
        message_id = uuid.uuid4()
        message = WebhookMessage.objects.create(
            id=message_id,
            type=topic,
            occurred_at=event.created_at,
            aggregate_type=subject.type,
            aggregate_id=subject.key,
            sequence=sequence,
            body=message_body(
                message_id=message_id, topic=topic, occurred_at=event.created_at, sequence=sequence, subject=subject
            ),
            source_event_id=event.pk,
        )
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint_id=endpoint_id,
                    message=message,
                    aggregate_type=subject.type,
                    aggregate_id=subject.key,
                    sequence=sequence,
                    type=topic,
                    next_attempt_at=now,
                    retry_until=now + _retry_window(),
                )
                for endpoint_id in endpoints
            ]
        )
        messages.append(message)
    if messages:
        transaction.on_commit(_kick, robust=True)
    return messages


# --- replays -----------------------------------------------------------------------------------


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, by) -> WebhookDelivery:
    """Send a delivery again (the same id and body), now, with a fresh retry window."""
    actor = Actor.of(by)
    _require(actor, "webhooks.replay_webhookendpoint")
    locked = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
    if locked is None:
        raise DomainError(_("This delivery was deleted."), code="not_found")
    now = timezone.now()
    if locked.leased_until is not None and locked.leased_until > now:
        raise DomainError(_("This delivery is being sent right now."), code="in_flight")
    locked.delivered_at = None
    locked.failed_at = None
    locked.failure = ""
    locked.next_attempt_at = now
    locked.retry_until = now + _retry_window()
    locked.save(update_fields=["delivered_at", "failed_at", "failure", "next_attempt_at", "retry_until"])
    transaction.on_commit(_kick, robust=True)
    return locked


@transaction.atomic
def endpoint_replay_failed(*, endpoint: WebhookEndpoint, by) -> int:
    """Send every given-up delivery of the endpoint again (same ids), oldest first; returns how many."""
    actor = Actor.of(by)
    _require(actor, "webhooks.replay_webhookendpoint")
    locked = _lock(endpoint)
    now = timezone.now()
    count = WebhookDelivery.objects.filter(endpoint=locked, failed_at__isnull=False).update(
        failed_at=None, failure="", next_attempt_at=now, retry_until=now + _retry_window()
    )
    if count:
        transaction.on_commit(_kick, robust=True)
    return count

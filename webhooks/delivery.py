"""Sending deliveries: claim due ones with a lease, POST them, record every attempt.

- A worker claims pending, due deliveries (SELECT … FOR UPDATE SKIP LOCKED) and leases them for
  WEBHOOKS_LEASE_SECONDS; a worker that dies mid-request leaves its lease to run out, and the next
  claim sends the same delivery (the same id and body) again: receivers dedupe on webhook-id.
- Per subject (an order, an invoice…) and endpoint, a delivery is claimed only when no earlier one
  of that subject is still pending: sequence n+1 never goes out before n is delivered or given up.
- 2xx: delivered. 5xx, 408, 429, timeouts, connection, DNS and address errors: retried with
  exponential backoff and jitter until the delivery's retry window (WEBHOOKS_RETRY_HOURS) is over.
  Any other answer (4xx, and 3xx since redirects are not followed): given up at once.
- A failing endpoint is paused with the same backoff and probed with one delivery at a time, so a
  broken receiver is not flooded; after WEBHOOKS_DISABLE_AFTER_FAILURES failed attempts in a row it
  is disabled and the managers are notified. Its queue is kept: enabled again, it gets everything.
- Nothing here depends on a Celery message arriving: beat runs the sender every few seconds and the
  rows say what is due.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from config.notifications import notification_send
from config.roles import MANAGER

from .addresses import AddressRefused, Target, webhook_target
from .models import DisabledReason, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .sending import Answer, post
from .signing import signature_header

logger = logging.getLogger(__name__)

BATCH = 50


def backoff(attempt: int) -> timedelta:
    """Exponential, capped, with jitter: half the step fixed, half random (so retries spread out)."""
    step = min(settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), settings.WEBHOOKS_RETRY_MAX_SECONDS)
    return timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311  (jitter, not a secret)


def retryable(answer: Answer) -> bool:
    if answer.status_code is None:
        return True
    return answer.status_code >= 500 or answer.status_code in (408, 429)


def delivered(answer: Answer) -> bool:
    return answer.status_code is not None and 200 <= answer.status_code < 300


@dataclass
class Claim:
    endpoint: WebhookEndpoint
    deliveries: list[WebhookDelivery] = field(default_factory=list)


def _pending() -> Q:
    return Q(delivered_at__isnull=True, failed_at__isnull=True)


def claim_due(*, now: datetime | None = None, batch: int = BATCH) -> list[Claim]:
    """Lease the due deliveries this worker sends next: per enabled, unpaused endpoint, the oldest due
    heads of their subjects (one only while the endpoint is failing: a probe)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    # The first pending sequence of the row's subject for this endpoint: only that row may go now.
    # (A correlated scalar subquery: whatever the table's statistics say, PostgreSQL answers it from
    # the webhook_delivery_in_order index with the whole key.)
    head = (
        WebhookDelivery.objects.filter(
            _pending(),
            endpoint=OuterRef("endpoint"),
            aggregate_type=OuterRef("aggregate_type"),
            aggregate_id=OuterRef("aggregate_id"),
        )
        .order_by("sequence")
        .values("sequence")[:1]
    )
    claims = []
    with transaction.atomic():
        due = Q(is_active=True) & (Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        # Healthy endpoints are shared by every worker (the deliveries themselves are locked); a
        # failing one is probed by one worker at a time, who holds its row while claiming.
        healthy = list(WebhookEndpoint.objects.filter(due, consecutive_failures=0).order_by("pk"))
        failing = list(
            WebhookEndpoint.objects.select_for_update(skip_locked=True).filter(due, consecutive_failures__gt=0).order_by("pk")
        )
        for endpoint in sorted(healthy + failing, key=lambda endpoint: endpoint.pk):
            take = 1 if endpoint.consecutive_failures else batch
            rows = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("message")
                .filter(_pending(), endpoint=endpoint, next_attempt_at__lte=now)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
                .filter(sequence=Subquery(head))
                .order_by("next_attempt_at", "pk")[:take]
            )
            if not rows:
                continue
            WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(leased_until=lease)
            if endpoint.consecutive_failures:  # other workers leave a failing endpoint alone while it is probed
                endpoint.paused_until = lease
                endpoint.save(update_fields=["paused_until"])
            claims.append(Claim(endpoint=endpoint, deliveries=rows))
    return claims


def _secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(endpoint.previous_secret)
    return found


def send_one(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery, target: Target) -> Answer:
    """One signed POST of the delivery's stored body (the same bytes every time)."""
    body = delivery.message.body.encode("utf-8")
    message_id = str(delivery.message_id)
    timestamp = int(time.time())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=_secrets(endpoint, timezone.now()), message_id=message_id, timestamp=timestamp, body=body
        ),
    }
    return post(target=target, body=body, headers=headers)


def _refused_answer(error: AddressRefused) -> Answer:
    return Answer(
        started_at=timezone.now(),
        duration_ms=0,
        error="dns" if error.code == "dns" else "address",
        error_detail=str(error)[:500],
    )


_pool: ThreadPoolExecutor | None = None


def _senders() -> ThreadPoolExecutor:
    """Threads that wait on receivers side by side (one per process, made on first use)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.WEBHOOKS_SEND_CONCURRENCY, thread_name_prefix="webhook-send")
    return _pool


def send_claim(claim: Claim) -> list[tuple[WebhookDelivery, Answer]]:
    """Send the claimed deliveries (each the head of its subject, so they may go side by side): the
    first alone, then in waves of WEBHOOKS_SEND_CONCURRENCY; after a wave in which the receiver looked
    unwell (no answer, 5xx), or once half the lease is spent, the rest are left for later untried."""
    results: list[tuple[WebhookDelivery, Answer]] = []
    started = time.monotonic()
    try:
        target = webhook_target(claim.endpoint.url)
    except AddressRefused as error:
        return [(claim.deliveries[0], _refused_answer(error))]
    wave_size = max(settings.WEBHOOKS_SEND_CONCURRENCY, 1)
    # The first goes alone: a receiver that is down costs one attempt, not a wave of them.
    waves = [claim.deliveries[:1]] + [claim.deliveries[i : i + wave_size] for i in range(1, len(claim.deliveries), wave_size)]
    for wave in waves:
        if len(wave) == 1:
            answers = [send_one(endpoint=claim.endpoint, delivery=wave[0], target=target)]
        else:
            answers = list(_senders().map(lambda d: send_one(endpoint=claim.endpoint, delivery=d, target=target), wave))
        results.extend(zip(wave, answers, strict=True))
        if any(retryable(answer) for answer in answers) or time.monotonic() - started > settings.WEBHOOKS_LEASE_SECONDS / 2:
            break
    return results


def _outcome(delivery: WebhookDelivery, answer: Answer, now: datetime) -> dict:
    """The columns a delivery gets after this attempt (its attempt count goes up by one besides)."""
    values = {
        "leased_until": None,
        "last_status_code": answer.status_code,
        "last_error": answer.error_detail or (answer.error and str(WebhookAttempt.Error(answer.error).label)) or "",
    }
    if delivered(answer):
        values["delivered_at"] = now
    elif not retryable(answer):
        values.update(failed_at=now, failure=WebhookDelivery.Failure.REFUSED)
    elif now >= delivery.retry_until:
        values.update(failed_at=now, failure=WebhookDelivery.Failure.EXPIRED)
    else:
        wait = backoff(delivery.attempts + 1)
        if answer.retry_after:
            wait = max(wait, timedelta(seconds=min(answer.retry_after, settings.WEBHOOKS_RETRY_MAX_SECONDS)))
        values["next_attempt_at"] = now + wait
    return values


def _managers() -> list[int]:
    return list(get_user_model().objects.filter(groups__name=MANAGER, is_active=True).values_list("pk", flat=True))


def record_results(claim: Claim, results: list[tuple[WebhookDelivery, Answer]]) -> None:
    """Log every attempt, move each delivery on, release what was not tried, and keep the endpoint's
    failure count (pausing, and at the limit disabling it and telling the managers)."""
    now = timezone.now()
    tried = {delivery.pk for delivery, _answer in results}
    untried = [delivery.pk for delivery in claim.deliveries if delivery.pk not in tried]
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=claim.endpoint.pk).first()
        if endpoint is None:  # deleted while we sent: its deliveries went with it
            return
        if untried:
            WebhookDelivery.objects.filter(pk__in=untried).update(leased_until=None)
        # A delivery replayed or finished by another worker whose lease overlapped is not moved back.
        current = set(WebhookDelivery.objects.filter(_pending(), pk__in=tried).values_list("pk", flat=True))
        before = (endpoint.consecutive_failures, endpoint.paused_until)
        attempts = []
        alike: dict[tuple, list[int]] = {}  # deliveries that end alike (usually: delivered, 200) move in one UPDATE
        for delivery, answer in results:
            attempts.append(
                WebhookAttempt(
                    delivery_id=delivery.pk,
                    started_at=answer.started_at,
                    duration_ms=answer.duration_ms,
                    status_code=answer.status_code,
                    response_excerpt=answer.excerpt,
                    error=answer.error,
                    error_detail=answer.error_detail,
                )
            )
            if delivery.pk in current:
                alike.setdefault(tuple(sorted(_outcome(delivery, answer, now).items())), []).append(delivery.pk)
            if delivered(answer):
                endpoint.consecutive_failures = 0
                endpoint.paused_until = None
            else:
                endpoint.consecutive_failures += 1
                endpoint.paused_until = now + backoff(endpoint.consecutive_failures) if retryable(answer) else None
        WebhookAttempt.objects.bulk_create(attempts)
        for values, pks in alike.items():
            WebhookDelivery.objects.filter(pk__in=pks).update(attempts=F("attempts") + 1, **dict(values))
        changed = (endpoint.consecutive_failures, endpoint.paused_until) != before
        fields = ["consecutive_failures", "paused_until"] if changed else []
        if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
            endpoint.is_active = False
            endpoint.disabled_reason = DisabledReason.FAILURES
            endpoint.disabled_at = now
            fields += ["is_active", "disabled_reason", "disabled_at"]
            notification_send(
                recipient_ids=_managers(),
                text=gettext_noop(
                    "Webhook endpoint %(url)s was disabled after %(count)s failed attempts in a row; "
                    "its events are kept until it is enabled again."
                ),
                params={"url": endpoint.url, "count": endpoint.consecutive_failures},
                url=endpoint.get_absolute_url(),
            )
            logger.warning("webhook endpoint %s disabled after %s failures", endpoint.pk, endpoint.consecutive_failures)
        if fields:
            endpoint.save(update_fields=fields)


def webhooks_deliver_due(*, seconds: float | None = None) -> int:
    """Send what is due until nothing is left or the time is up; returns how many attempts were made."""
    deadline = time.monotonic() + (settings.WEBHOOKS_SEND_SECONDS if seconds is None else seconds)
    attempts = 0
    while time.monotonic() < deadline:
        claims = claim_due()
        if not claims:
            break
        for claim in claims:
            results = send_claim(claim)
            record_results(claim, results)
            attempts += len(results)
    return attempts

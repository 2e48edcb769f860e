"""The outbox: side effects are recorded in the business transaction and carried out after it.

`outbox_publish` writes an OutboxEvent row in the caller's transaction (only for topics that have
a handler). After commit a fast path asks a worker to dispatch; a beat task dispatches every few
seconds anyway, so nothing is lost when Redis or a worker is down: the dispatcher catches up.
Each handler runs in a savepoint of the transaction that records it as done on the event, so its
database effect happens exactly once, and a failing handler is retried alone, later, without
repeating the others. Handlers must still be idempotent (an e-mail may be sent again after a crash).
Handlers are registered explicitly in settings.OUTBOX_HANDLERS: {topic: [dotted path, ...]}.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import cache

from celery import shared_task
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .bulk import objects_like, rows_insert
from .rows import hot_cursor, row_insert, rows_select

logger = logging.getLogger(__name__)
# Set while this thread runs a dispatch loop: a commit inside a handler asks for no dispatch of
# its own, since the running loop goes on until no event is due (tasks run in-process when no
# broker is configured, and would otherwise nest one loop per commit).
_dispatching = threading.local()

MAX_ATTEMPTS = 12


class OutboxEvent(models.Model):
    """One thing that happened and must be handled after commit."""

    topic = models.CharField(_("topic"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    available_at = models.DateTimeField(_("due"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    handled = models.JSONField(_("handlers done"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        app_label = "config"
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="outbox_pending",
                condition=models.Q(dispatched_at__isnull=True, failed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.topic}"


@cache
def _handler(path: str):
    return import_string(path)


def outbox_handlers_for(topic: str) -> list[tuple[str, object]]:
    """(dotted path, function) of each handler registered for the topic, in order."""
    return [(path, _handler(path)) for path in settings.OUTBOX_HANDLERS.get(topic, [])]


def outbox_publish(*, topic: str, payload: dict) -> OutboxEvent | None:
    """Record the event in the current transaction; nothing is written for a topic nobody handles."""
    if topic not in settings.OUTBOX_HANDLERS:
        return None
    event = row_insert(OutboxEvent(topic=topic, payload=payload))
    published = getattr(_dispatching, "published", None)
    if published is not None:  # a handler's follow-up: the dispatcher may run it in the same transaction
        published.append(event)
    _kick_after_commit()
    return event


def outbox_publish_many(*, topic: str, payloads: list[dict]) -> int:
    """outbox_publish for many events of one topic (one INSERT); returns how many were recorded."""
    if topic not in settings.OUTBOX_HANDLERS or not payloads:
        return 0
    rows_insert(objects_like(OutboxEvent(topic=topic), ({"payload": payload} for payload in payloads)))
    _kick_after_commit()
    return len(payloads)


@shared_task(name="config.tasks.dispatch_outbox", ignore_result=True)
def dispatch_outbox() -> None:
    """Carry out the outbox's due events; beat runs it every few seconds, commits ask for it at once."""
    outbox_dispatch()


def _kick() -> None:
    if getattr(_dispatching, "active", False):
        return
    dispatch_outbox.delay()


def _kick_after_commit() -> None:
    """Ask for a dispatch after commit; a broker that is down only delays it (beat catches up)."""
    transaction.on_commit(_kick, robust=True)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 3600))


def own_transactions(handler):
    """Mark a handler that works through many independent rows in transactions of its own (e.g.
    allocating every waiting order): it runs after the event's transaction, not inside it, so its
    locks are never held together (one long transaction would break the global lock order), and
    it must be idempotent, since a crash before it is recorded runs it again."""
    handler.outbox_own_transactions = True
    return handler


def outbox_event_aware(handler):
    """Mark a handler that needs the event itself besides its payload (when it happened, its id, which
    orders it among the events of the same aggregate): it is called as handler(payload, event=event)."""
    handler.outbox_event_aware = True
    return handler


def outbox_database_only(handler):
    """Mark a handler whose only effects are rows of this database (no e-mail, no HTTP call, nothing the
    transaction cannot take back): an event's such handlers run one after the other in its transaction without
    a savepoint each; should one fail, the transaction is rolled back and the event run again with a savepoint
    per handler (as every other handler always is), so nothing outside the database happens twice."""
    handler.outbox_database_only = True
    return handler


class _QuickRunFailed(Exception):
    """A database-only handler failed in the quick run: its event is run again, carefully."""


def _call(handler, event: OutboxEvent) -> None:
    if getattr(handler, "outbox_event_aware", False):
        handler(event.payload, event=event)
    else:
        handler(event.payload)


# How long an event whose handlers run in their own transactions is kept from other dispatchers.
LEASE = timedelta(minutes=5)


def _due_event(now, *, event_id: int = 0) -> OutboxEvent | None:
    """The oldest due event (or that one), locked; another dispatcher's are skipped."""
    # Read with a statement built once and prepared (config.rows): three events per order pass here.
    where = "t0.dispatched_at IS NULL AND t0.failed_at IS NULL AND t0.available_at <= %s"
    params = [connection.ops.adapt_datetimefield_value(now)]
    if event_id:
        where, params = f"{where} AND t0.id = %s", [*params, event_id]
    found = rows_select(OutboxEvent, where, params, tail=" ORDER BY t0.available_at, t0.id LIMIT 1", lock=True, skip_locked=True)
    return found[0] if found else None


_RECORDED = ("handled", "attempts", "last_error", "available_at", "failed_at", "dispatched_at")


def _record(event: OutboxEvent, *, errors: list[str], now) -> None:
    if errors:
        event.attempts += 1
        event.last_error = "\n".join(errors)[:4000]
        event.available_at = now + _backoff(event.attempts)
        if event.attempts >= MAX_ATTEMPTS:
            event.failed_at = now
    elif all(path in event.handled for path, _handler in outbox_handlers_for(event.topic)):
        event.dispatched_at = timezone.now()
    fields = [OutboxEvent._meta.get_field(name) for name in _RECORDED]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with hot_cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(OutboxEvent._meta.db_table)} SET {assignments} WHERE id = %s",
            [*values, event.pk],
        )


def _run(event: OutboxEvent, path: str, handler, errors: list[str]) -> None:
    try:
        if getattr(handler, "outbox_own_transactions", False):
            _call(handler, event)  # its transactions are its own
        else:
            with transaction.atomic():
                _call(handler, event)
    except Exception as error:  # recorded and retried later, never lost
        errors.append(f"{path}: {type(error).__name__}: {error}")
        logger.warning("outbox event %s (%s): %s failed: %s", event.pk, event.topic, path, error)
    else:
        event.handled.append(path)


def _own(handler) -> bool:
    return getattr(handler, "outbox_own_transactions", False)


def _quick(handler) -> bool:
    return getattr(handler, "outbox_database_only", False)


def outbox_dispatch_one() -> OutboxEvent | None:
    """Handle the oldest due event (skipping those another dispatcher holds), and the follow-ups of the same
    aggregate its handlers publish (see _dispatch); None when none is due."""
    try:
        return _dispatch(careful=False)
    except _QuickRunFailed as failed:
        logger.info("outbox event %s: a handler failed in the quick run; running it again carefully", failed.args[0])
        return _dispatch(careful=True, event_id=failed.args[0])


def _same_aggregate(event: OutboxEvent, other: OutboxEvent) -> bool:
    """Two transition events ("<app>.<model>.<transition>") of the same row."""
    aggregate = event.topic.rsplit(".", 1)[0]
    return (
        event.topic.count(".") == 2
        and other.topic.rsplit(".", 1)[0] == aggregate
        and isinstance(event.payload, dict)
        and isinstance(other.payload, dict)
        and other.payload.get("id") == event.payload.get("id") is not None
    )


def _dispatch(*, careful: bool, event_id: int = 0) -> OutboxEvent | None:
    """The event's handlers in its transaction (unless they keep their own): carefully, each in a savepoint; else
    the database-only ones first without one, then the others. Whatever fails after a database-only handler ran
    without a savepoint (itself, or a statement it left broken) rolls the whole run back: _QuickRunFailed.

    When every handler of the event was database-only and succeeded, a follow-up event its handlers published
    for the same row (a submitted order's checks approve it: the approval's handlers allocate it) runs next in
    the same transaction: still nothing outside the database has happened, the row's lock is already held,
    and a failure rolls the chain back to its first event, which is then run again alone, carefully."""
    first_id = 0
    _dispatching.followed = False
    with transaction.atomic():
        while True:
            now = timezone.now()
            event = _due_event(now, event_id=event_id)
            if event is None:
                return None
            first_id = first_id or event.pk
            pending = [(path, handler) for path, handler in outbox_handlers_for(event.topic) if path not in event.handled]
            inside = [(path, handler) for path, handler in pending if not _own(handler)]
            later = [(path, handler) for path, handler in pending if _own(handler)]
            quick = [] if careful else [(path, handler) for path, handler in inside if _quick(handler)]
            errors: list[str] = []
            _dispatching.published = published = []
            try:
                for path, handler in quick:
                    _call(handler, event)
                    event.handled.append(path)
                for path, handler in inside:
                    if (path, handler) not in quick:
                        _run(event, path, handler, errors)  # in a savepoint: its effect and "done" commit together
                if later and not errors:
                    event.available_at = now + LEASE  # other dispatchers leave it alone while these run
                _record(event, errors=errors, now=now)
            except Exception as error:
                if quick:
                    raise _QuickRunFailed(first_id) from error
                raise
            finally:
                _dispatching.published = None
            only_database = not careful and not later and not errors and len(quick) == len(inside)
            follow_up = next((e for e in published if _same_aggregate(event, e)), None) if only_database else None
            # Events published and not run here: the dispatch loop claims the next one without looking first.
            _dispatching.followed = _dispatching.followed or any(e is not follow_up for e in published)
            if follow_up is None:
                break
            event_id = follow_up.pk
    if not later or errors:
        return event
    for path, handler in later:
        _run(event, path, handler, errors)
    with transaction.atomic():
        _record(event, errors=errors, now=timezone.now())
    return event


def _any_due() -> bool:
    """Is any event due? A plain read, outside a transaction: what ends a dispatch loop costs one statement."""
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE dispatched_at IS NULL AND failed_at IS NULL AND available_at <= %s LIMIT 1",
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.fetchone() is not None


def outbox_dispatch(*, limit: int = 500) -> int:
    """Dispatch due events until none is left (or `limit`); returns how many were handled."""
    handled = 0
    outer = not getattr(_dispatching, "active", False)
    _dispatching.active = True
    try:
        while handled < limit:
            # After a run whose handlers published nothing, look before taking a transaction to claim.
            if handled and not getattr(_dispatching, "followed", True) and not _any_due():
                break
            if outbox_dispatch_one() is None:
                break
            handled += 1
    finally:
        if outer:
            _dispatching.active = False
    return handled


def outbox_pending_count() -> int:
    return OutboxEvent.objects.filter(dispatched_at__isnull=True, failed_at__isnull=True).count()

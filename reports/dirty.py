"""Report rows refreshed in batches: an event marks what changed, a beat task refreshes each area's marks at once.

An order's events (submitted, approved, allocated, …) each used to refresh its rows in every report area
that follows it: about seven refreshes per order, in the request when no broker is configured. Now:

- an outbox handler only marks the order (or customer) as dirty in an area: one INSERT of a row of
  `DirtyKey`. Order transitions go through one handler, `order_changed`, that marks every area following
  that transition (settings.REPORTS_BATCHED_AREAS) in one statement. Marks are plain inserts, never
  upserts, so a mark never waits for a batch that holds a mark of the same key;
- `dirty_refresh` (the beat task `reports.refresh_dirty`, every REPORTS_BATCH_SECONDS) takes an area's
  marks in one transaction (FOR UPDATE SKIP LOCKED, one batch of an area at a time), hands the distinct
  keys to the area's refresher (its `refresh_orders(order_ids)` or `refresh_customers(customer_ids)`),
  deletes the marks and records the snapshot as of the moment they were taken: a report shows "data as
  of" the last batch, and what was marked after it waits for the next. A crash rolls the transaction
  back: the marks stay for the next run;
- with no broker (the embedded default, where tasks run in-process and no beat runs), the first mark
  after a batch starts the process's next batch REPORTS_BATCH_SECONDS later, in a thread of its own;
- with REPORTS_BATCH_SECONDS = 0 every mark is refreshed at once, in its handler (the tests' setting,
  so a test sees an event's effect right after dispatching it).

The area's name is also the name of its snapshot (reports.snapshots).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from config.outbox import outbox_database_only, outbox_event_aware
from config.rows import hot_cursor
from orders.models import SalesOrder
from reports.models import DirtyKey
from reports.snapshots import snapshot_touch

logger = logging.getLogger(__name__)

ORDER_TOPIC_PREFIX = "orders.salesorder."
# Keys taken in one transaction; a larger backlog is worked through in several.
BATCH_SIZE = 2000
# pg_try_advisory_xact_lock(BATCH_LOCK, area number): one batch of an area at a time, the others skip it.
BATCH_LOCK = 7_311_090

_TABLE = DirtyKey._meta.db_table
_ORDERS = SalesOrder._meta.db_table


def batched_areas() -> dict[str, dict]:
    """{area: {"refresh": dotted path, "key": "order" | "customer", "order_transitions": [...]}} from settings."""
    return settings.REPORTS_BATCHED_AREAS


@cache
def _refresher(path: str):
    return import_string(path)


@cache
def _areas_of_topic(topic: str) -> tuple[tuple[str, str], ...]:
    """(area, key kind) of every area that follows this order transition."""
    transition = topic.removeprefix(ORDER_TOPIC_PREFIX)
    return tuple((area, spec["key"]) for area, spec in batched_areas().items() if transition in spec.get("order_transitions", ()))


def order_transition_topics() -> list[str]:
    """Every order transition some area follows (each is subscribed to `order_changed` once)."""
    return sorted({ORDER_TOPIC_PREFIX + t for spec in batched_areas().values() for t in spec.get("order_transitions", ())})


# --- marking ----------------------------------------------------------------------------------------------


@outbox_database_only
@outbox_event_aware
def order_changed(payload: dict, *, event) -> None:
    """An order moved: it is marked in every area following the transition (the customer, in areas kept per customer)."""
    areas = _areas_of_topic(event.topic)
    if not areas:
        return
    arms, params = [], []
    now = timezone.now()
    for area, key in areas:
        column = "customer_id" if key == "customer" else "id"
        arms.append(f"SELECT CAST(%s AS text), {column}, %s FROM {_ORDERS} WHERE id = %s")
        params += [area, now, payload["id"]]
    with hot_cursor() as cursor:  # prepared (config.rows): every order event of every order marks
        cursor.execute(f"INSERT INTO {_TABLE} (area, key, marked_at) {' UNION ALL '.join(arms)}", params)
    _after_marking([area for area, _key in areas])


def dirty_mark(*, area: str, keys: Iterable[int | None]) -> int:
    """Mark these keys (order or customer ids, as the area keeps them) for the area's next batch; returns how many."""
    if area not in batched_areas():
        raise ValueError(f"{area!r} is not in REPORTS_BATCHED_AREAS")
    keys = sorted({int(key) for key in keys if key is not None})
    if not keys:
        return 0
    now = timezone.now()
    DirtyKey.objects.bulk_create([DirtyKey(area=area, key=key, marked_at=now) for key in keys])
    _after_marking([area])
    return len(keys)


def _after_marking(areas: list[str]) -> None:
    seconds = settings.REPORTS_BATCH_SECONDS
    if seconds <= 0:
        for area in areas:  # at once, in the handler's transaction: a failure fails the handler, retried later
            while dirty_refresh_area(area, wait=True) == BATCH_SIZE:
                pass
        return
    if settings.CELERY_TASK_ALWAYS_EAGER and _timer is None:
        transaction.on_commit(_schedule_batch, robust=True)
    # With a broker, a worker runs the beat task.


# With no broker there is no beat: the first mark after a batch starts this process's next one REPORTS_BATCH_SECONDS
# later, in a thread of its own, so no request waits for it; marks made meanwhile join it.
_timer_lock = threading.Lock()
_timer: threading.Timer | None = None


def _schedule_batch() -> None:
    global _timer
    with _timer_lock:
        if _timer is None:
            _timer = threading.Timer(settings.REPORTS_BATCH_SECONDS, _batch_in_thread)
            _timer.daemon = True  # a process that exits leaves its marks to the next batch
            _timer.start()


def _batch_in_thread() -> None:
    global _timer
    with _timer_lock:
        _timer = None  # a mark from now on starts the next batch
    try:
        dirty_refresh()
    finally:
        connections.close_all()  # this thread's own connections


# --- refreshing -------------------------------------------------------------------------------------------


def _take(area: str, *, wait: bool) -> tuple[list[int], list[int]] | None:
    """The ids and distinct keys of the area's oldest marks, locked; None when another batch holds the area
    (with `wait`, this one waits for it instead)."""
    if connection.vendor == "postgresql":
        lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {lock}(%s, %s)::text", [BATCH_LOCK, list(batched_areas()).index(area)])
            if cursor.fetchone()[0] == "false":
                return None
    rows = list(
        DirtyKey.objects.select_for_update(skip_locked=True)
        .filter(area=area)
        .order_by("pk")
        .values_list("pk", "key")[:BATCH_SIZE]
    )
    return [pk for pk, _key in rows], sorted({key for _pk, key in rows})


def dirty_refresh_area(area: str, *, wait: bool = False) -> int:
    """Refresh one batch of the area's marks in one transaction; returns how many marks it took (0: none, or
    another batch holds the area and `wait` is false)."""
    refresh = _refresher(batched_areas()[area]["refresh"])
    with transaction.atomic():
        taken_at = timezone.now()
        taken = _take(area, wait=wait)
        if not taken or not taken[0]:
            return 0
        ids, keys = taken
        refresh(keys)
        DirtyKey.objects.filter(pk__in=ids).delete()
        # The refresher may have stamped a later moment: the data is as of when the marks were taken.
        snapshot_touch(area, at=taken_at)
    return len(ids)


def dirty_refresh(*, areas: Iterable[str] | None = None) -> dict[str, int]:
    """Refresh every mark of these areas (all by default), batch after batch; returns the marks taken per area.

    An area whose refresh fails keeps its marks (its transaction rolls back) and the others go on."""
    done: dict[str, int] = {}
    for area in areas or list(batched_areas()):
        done[area] = 0
        try:
            while count := dirty_refresh_area(area):
                done[area] += count
                if count < BATCH_SIZE:
                    break
        except Exception:
            logger.exception("reports: refreshing the marked rows of %s failed; they are kept for the next run", area)
    return done

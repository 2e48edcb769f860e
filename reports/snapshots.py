"""When each snapshot table was last brought up to date: shown as "data as of" on every report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import OperationalError, connections, router, transaction
from django.utils import timezone

from orders.models import SalesOrder
from reports.models import SnapshotState

# PostgreSQL's "lock not available": a lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"
# The nightly runs that compute again only the orders that changed take those something happened to this long
# before the last run too (a transaction that began before the run and committed after it wrote its times
# before the run's).
NIGHTLY_OVERLAP = timedelta(days=1)


def snapshot_touch(name: str, *, rebuilt: bool = False, at: datetime | None = None) -> None:
    """Record that snapshot `name` holds the data up to `at` (now); a full rebuild also sets rebuilt_at."""
    at = at or timezone.now()
    values = {"refreshed_at": at, **({"rebuilt_at": at} if rebuilt else {})}
    updated = SnapshotState.objects.filter(name=name).update(**values)
    if not updated:
        SnapshotState.objects.update_or_create(name=name, defaults=values)


def snapshot_as_of(*names: str) -> datetime | None:
    """The oldest refresh time among the named snapshots (a report is as fresh as its stalest table); None if never built."""
    times = dict(SnapshotState.objects.filter(name__in=names).values_list("name", "refreshed_at"))
    if len(times) < len(set(names)) or any(value is None for value in times.values()):
        return None
    return min(times.values())


def snapshot_read[T](read: Callable[[], T], *, default: T, wait_ms: int = 500) -> T:
    """read(), or `default` while a full rebuild holds the snapshot tables it reads.

    A first build empties its tables with TRUNCATE, whose lock lasts until it commits; nightly runs rewrite only
    what changed, in short transactions, and the full recomputes (full=True) only the rows that differ: they hold
    no such lock. A page opened all day (a home, the dashboard) waits for a held lock at most `wait_ms` on
    PostgreSQL instead. Other errors are raised.
    """
    alias = router.db_for_read(SnapshotState)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return read()
    try:
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'")
            return read()
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return default


def nightly_refresh(name: str, *, order_ids: set[int], chunk: int, refresh: Callable[[list[int]], object], now: datetime) -> dict:
    """The incremental nightly run of a snapshot kept per order: `refresh(ids)` (its own transaction, so readers
    never wait and events go on being handled) over the orders in chunks of `chunk`, then the run recorded at
    `now` (the next run takes what changed from the start of this one on)."""
    ordered = sorted(order_ids)
    for start in range(0, len(ordered), chunk):
        refresh(ordered[start : start + chunk])
    snapshot_touch(name, rebuilt=True, at=now)
    return {"rebuilt": False, "refreshed": len(ordered)}


def nightly_slice(day: date, *, size: int) -> list[int]:
    """The ids of the night's slice of the orders: the id range cut in slices of `size` ids, one a night in
    turn, so a nightly run that also computes its slice again computes every order within (ids / size) nights."""
    ids = SalesOrder.objects.order_by("pk").values_list("pk", flat=True)
    first, last = ids.first(), ids.reverse().first()
    if first is None:
        return []
    slices = (last - first) // size + 1
    start = first + (day.toordinal() % slices) * size
    return list(ids.filter(pk__gte=start, pk__lt=start + size))

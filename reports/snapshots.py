"""When each snapshot table was last brought up to date: shown as "data as of" on every report."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from reports.models import SnapshotState


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

"""The dashboard's and the homes' costly figures, kept in the cache until a snapshot they are read from changes.

A figure's key holds the "refreshed at" of the snapshots it comes from (SnapshotState, read once per page for
all of them): every refresh, incremental or nightly, makes a new key, so a cached figure is never older than
its snapshot, and the next page after a refresh computes it again. A figure of a snapshot that was never built
is not cached (its tables are empty: it costs nothing). Orders at risk also move with the clock (late,
stuck): their key also holds the day, a RISK_MINUTES slot, the per-state limits and the customers on hold.

Charts are kept by what they draw (kind, title, labels, values, size, language): the same figures never
render twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from reports.models import SnapshotState
from reports.snapshots import snapshot_read

# How long an entry may stay unused before the cache lets it go (a key never serves stale figures: see above).
FIGURES_SECONDS = 6 * 3600
# Orders at risk are counted again at least this often (an order becomes late or stuck without any event).
RISK_MINUTES = 5
# The generation every key starts with: deleting it forgets every cached figure and chart at once (the tests do).
GENERATION_KEY = "reports:dashboard:generation"

HELD = object()  # what a read answers while a rebuild holds its tables: shown as a dash, never cached
_MISSING = object()


def _generation() -> str:
    return cache.get_or_set(GENERATION_KEY, lambda: uuid.uuid4().hex, None)


def _key(kind: str, parts: tuple) -> str:
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return f"reports:dashboard:{kind}:{_generation()}:{digest}"


def snapshot_versions() -> dict[str, datetime | None]:
    """{snapshot name: refreshed at} of every snapshot (one query); a name missing was never built."""
    return dict(SnapshotState.objects.values_list("name", "refreshed_at"))


def risk_slot(now: datetime | None = None) -> int:
    """The RISK_MINUTES slot `now` falls in: orders at risk counted in one slot are reused for the rest of it."""
    now = now or timezone.now()
    return int(now.timestamp()) // (RISK_MINUTES * 60)


def risk_clock_parts(clock) -> tuple:
    """What orders at risk are keyed by besides the cycles' refresh: the day, the RISK_MINUTES slot, the per-state
    limits and the credit holds (a reports.cycles.risk.RiskClock)."""
    return (
        clock.today,
        risk_slot(clock.now),
        tuple(sorted(clock.limits.items())),
        tuple(sorted((customer, str(at)) for customer, at in clock.holds.items())),
    )


def held_while_rebuilding[T](read: Callable[[], T]) -> T:
    """read(), or HELD while a rebuild holds the tables it reads (a dash on the page, never cached)."""
    return snapshot_read(read, default=HELD)


class FigureCache:
    """Reads figures through the cache, keyed by the versions of the snapshots each one comes from."""

    def __init__(self, versions: dict[str, datetime | None] | None = None):
        self.versions = snapshot_versions() if versions is None else versions

    def as_of(self, *names: str) -> datetime | None:
        """The oldest refresh among the named snapshots (None: one was never built), as reports.snapshots says."""
        times = [self.versions.get(name) for name in names]
        return None if any(at is None for at in times) else min(times)

    def read[T](self, name: str, compute: Callable[[], T], *, snapshots: tuple[str, ...], parts: tuple = ()) -> T:
        """compute()'s answer, from the cache while the snapshots it reads are unchanged (never cached: HELD)."""
        stamps = tuple(self.versions.get(snapshot) for snapshot in snapshots)
        if any(stamp is None for stamp in stamps):
            return compute()
        key = _key(name, (name, snapshots, stamps, parts))
        found = cache.get(key, _MISSING)
        if found is not _MISSING:
            return found
        found = compute()
        if found is not HELD:
            cache.set(key, found, FIGURES_SECONDS)
        return found


def cached_svg(render: Callable[..., str], **drawing) -> str:
    """render(**drawing) (an SVG chart), kept by what it draws and the language it is drawn in."""
    key = _key("svg", (render.__module__, render.__qualname__, get_language(), sorted(drawing.items(), key=str)))
    svg = cache.get(key)
    if svg is None:
        svg = render(**drawing)
        cache.set(key, svg, FIGURES_SECONDS)
    return svg

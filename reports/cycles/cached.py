"""The orders-at-risk counts of the Cycle times and Orders at risk pages, through the dashboard's figure cache.

Counting means a pass over every open cycle row (about 320,000 at a million orders). The dashboard and the
manager's home keep their count and count per reason under a key holding the cycle snapshot's "refreshed at",
the day, a few-minute slot, the per-state limits and the credit holds (reports.dashboard.cache); the pages
read the same entries, so one pass serves them all until any of those changes. Filtered chip counts (a status,
a customer) are kept under their own keys the same way.
"""

from __future__ import annotations

from reports.dashboard.cache import FigureCache, held_while_rebuilding, risk_clock_parts
from reports.dashboard.figures import CachedFigures

from .refresh import SNAPSHOT
from .risk import RiskClock
from .selectors import risk_reason_counts


def at_risk_now(*, salesperson_id: int | None = None, figure_cache: FigureCache | None = None) -> int | None:
    """How many orders are at risk now (one salesperson's, or everyone's); None while a rebuild holds the rows."""
    return CachedFigures(scope=salesperson_id, figure_cache=figure_cache, guard=held_while_rebuilding).at_risk_count()


def reason_counts(
    *, clock: RiskClock, salesperson_id: int | None = None, status: str = "", customer_text: str = "", **_ignored
) -> dict[str, int]:
    """{reason: orders at risk for it} under the queue's other filters (risk_reason_counts), from the cache."""
    if not status and not customer_text:
        figures = CachedFigures(scope=salesperson_id).orders_at_risk()
        return dict(figures.by_reason)
    parts = (salesperson_id, status, customer_text, risk_clock_parts(clock))
    return FigureCache().read(
        "risk_reason_counts",
        lambda: risk_reason_counts(clock=clock, salesperson_id=salesperson_id, status=status, customer_text=customer_text),
        snapshots=(SNAPSHOT,),
        parts=parts,
    )

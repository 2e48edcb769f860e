"""The sources' costly figures for one reader, through the figure cache: what the dashboard and the homes share.

The manager's home shows the month's revenue and margin, the orders at risk and the overdue receivables that
the dashboard shows too: both read them here, under the same keys, so one computes them and the other reuses
them until a snapshot they come from is refreshed (reports.dashboard.cache). A salesperson's figures are keyed
by their id: nobody is ever served another reader's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from reports.cycles.refresh import SNAPSHOT as CYCLES_SNAPSHOT
from reports.cycles.risk import RiskClock

from . import sources
from .cache import HELD, FigureCache, risk_clock_parts

SALES_SNAPSHOT = sources.SALES_SNAPSHOT


def _direct[T](read: Callable[[], T]) -> T:
    return read()


class CachedFigures:
    """Sales, on-time delivery and orders at risk of one scope (None: everyone's; else a salesperson's id).

    `guard(read)` runs each read that the cache cannot answer: the dashboard passes one that answers HELD while
    a rebuild holds the tables (never cached); the homes read directly (their provider guards all its figures).
    """

    def __init__(self, *, scope: int | None, figure_cache: FigureCache | None = None, guard: Callable = _direct):
        self.scope = scope
        self.cache = figure_cache or FigureCache()
        self.guard = guard

    def sales_totals(self, *, start: date, end: date) -> sources.SalesTotals | None:
        return self.cache.read(
            "sales_totals",
            lambda: self.guard(lambda: sources.sales_totals(start=start, end=end, salesperson_id=self.scope)),
            snapshots=(SALES_SNAPSHOT,),
            parts=(self.scope, start, end),
        )

    def sales_by_day(self, *, start: date, end: date) -> list[sources.DayTotals] | None:
        return self.cache.read(
            "sales_by_day",
            lambda: self.guard(lambda: sources.sales_by_day(start=start, end=end, salesperson_id=self.scope)),
            snapshots=(SALES_SNAPSHOT,),
            parts=(self.scope, start, end),
        )

    def on_time_rate(self, *, start: date, end: date) -> Decimal | None:
        return self.cache.read(
            "on_time_rate",
            lambda: self.guard(lambda: sources.on_time_rate(start=start, end=end, salesperson_id=self.scope)),
            snapshots=(CYCLES_SNAPSHOT,),
            parts=(self.scope, start, end),
        )

    def orders_at_risk(self) -> sources.RiskFigures | None:
        """How many orders are at risk and for which reasons (no rows): counted again after a refresh of the cycles,
        a change of the limits or of the credit holds, and every few minutes (orders become late without an event)."""
        return self.cache.read(
            "orders_at_risk",
            lambda: self.guard(lambda: sources.orders_at_risk(salesperson_id=self.scope, limit=0)),
            snapshots=(CYCLES_SNAPSHOT,),
            parts=(self.scope, risk_clock_parts(RiskClock.current())),
        )

    def at_risk_count(self) -> int | None:
        """How many orders are at risk; None (a dash) while a rebuild holds the cycle rows (with a HELD guard)."""
        risk = self.orders_at_risk()
        return None if risk is HELD else risk.count

"""Where the dashboard's, the home pages' and the nightly report's figures come from.

Each function here is the one place a figure is read, from another report area's selectors (their
snapshot tables) or, until that area exists, from what billing and inventory already provide. A figure
whose area has not landed yet answers None: pages show a dash and the nightly report says it is not
available yet. Those places are marked `PENDING(<area>)`; the figure joins when its selector lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.ageing import AgeingBucket, ageing_buckets, ageing_totals
from inventory.stock.selectors import open_alerts


@dataclass(frozen=True)
class SalesTotals:
    """Sales of a period: net revenue, orders, and the gross margin on what shipped (None: cost not known)."""

    revenue: Decimal
    orders: int
    margin: Decimal | None = None

    @property
    def margin_rate(self) -> Decimal | None:
        if self.margin is None or not self.revenue:
            return None
        return self.margin / self.revenue


@dataclass(frozen=True)
class DayTotals:
    day: date
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class AgeingAmount:
    """The open amount of one ageing bucket: days past due from `first` to `last` (None: open-ended)."""

    key: str
    first: int | None
    last: int | None
    amount: Decimal


@dataclass(frozen=True)
class ReceivablesFigures:
    as_of: date
    overdue: Decimal
    total: Decimal
    buckets: list[AgeingAmount] = field(default_factory=list)


@dataclass(frozen=True)
class RiskRow:
    order_id: int
    number: str
    customer: str
    reasons: list[str]  # reason keys, worded by risk_reason_label in the reader's language


@dataclass(frozen=True)
class RiskFigures:
    count: int
    by_reason: dict[str, int]
    rows: list[RiskRow]


@dataclass(frozen=True)
class StockAlertRow:
    sku: str
    product: str
    warehouse: str
    available: int
    safety_stock: int


@dataclass(frozen=True)
class StockAlerts:
    count: int
    rows: list[StockAlertRow]


# --- sales and margin --------------------------------------------------------------------------------------------


def sales_totals(*, start: date, end: date, salesperson_id: int | None = None) -> SalesTotals | None:
    """Net revenue, orders and margin of the days from `start` to `end`, of one salesperson or everyone's."""
    # PENDING(reports.sales): the daily sales facts' headline selector; no figure until it lands.
    return None


def sales_by_day(*, start: date, end: date, salesperson_id: int | None = None) -> list[DayTotals] | None:
    """Revenue and orders per day from `start` to `end` (every day, empty ones as 0)."""
    # PENDING(reports.sales): the daily sales facts grouped by day.
    return None


# --- cycle times and orders at risk ------------------------------------------------------------------------------


def on_time_rate(*, start: date, end: date, salesperson_id: int | None = None) -> Decimal | None:
    """The share of orders delivered from `start` to `end` by the date the customer asked for (0.9 = 90 %)."""
    # PENDING(reports.cycles): on-time delivery vs requested date from the cycle snapshot.
    return None


def orders_at_risk(*, salesperson_id: int | None = None, limit: int = 20) -> RiskFigures | None:
    """How many orders are at risk, how many for each reason, and the first `limit` of them."""
    # PENDING(reports.cycles): the orders-at-risk queue's selector.
    return None


def risk_reason_label(key: str) -> str:
    """A reason an order is at risk, in the reader's language."""
    # PENDING(reports.cycles): its reasons' labels; the key until then.
    return key


# --- receivables -------------------------------------------------------------------------------------------------


def receivables(*, as_of: date, salesperson_id: int | None = None) -> ReceivablesFigures:
    """What customers owe on `as_of`: overdue, in total and per ageing bucket (of one salesperson's customers)."""
    # PENDING(reports.receivables): its snapshot replaces this one aggregate over the open invoices (billing's ageing).
    totals = ageing_totals(as_of=as_of, salesperson_id=salesperson_id)
    return ReceivablesFigures(
        as_of=as_of,
        overdue=totals["overdue"],
        total=totals["total"],
        buckets=[AgeingAmount(b.key, b.first, b.last, totals[b.key]) for b in ageing_buckets()],
    )


def ageing_label(amount: AgeingAmount) -> str:
    """The bucket's name in the reader's language ("Current", "1–30 days", "> 90 days")."""
    return AgeingBucket(amount.key, amount.first, amount.last).label


# --- stock ----------------------------------------------------------------------------------------------------------


def stock_alerts(*, limit: int = 20) -> StockAlerts:
    """Products below their safety stock now: how many, and the newest `limit`."""
    alerts = open_alerts()
    rows = [
        StockAlertRow(
            sku=alert.product.sku,
            product=alert.product.name,
            warehouse=alert.warehouse.code,
            available=alert.available,
            safety_stock=alert.safety_stock,
        )
        for alert in alerts[:limit]
    ]
    count = len(rows) if len(rows) < limit else alerts.order_by().count()
    return StockAlerts(count=count, rows=rows)

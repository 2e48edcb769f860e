"""Where the dashboard's, the home pages' and the nightly report's figures come from.

Each function here is the one place a figure is read: from the other report areas' selectors (their
snapshot tables: sales facts, order cycles, receivables and stock days), and from inventory's open
low-stock alerts and billing's ageing for what has no snapshot (a salesperson's own customers' debts).
A source may answer None (a figure not known): pages show a dash, the nightly report "not available yet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from billing.ageing import AgeingBucket, ageing_buckets, ageing_totals
from config.money import ZERO
from inventory.stock.selectors import open_alerts
from reports.cycles.models import OrderCycle
from reports.cycles.refresh import SNAPSHOT as CYCLES_SNAPSHOT
from reports.cycles.risk import RiskClock, RiskReason
from reports.cycles.risk import RiskNote as CycleRiskNote
from reports.cycles.selectors import OnTime, on_time_days, risk_summary
from reports.cycles.selectors import orders_at_risk_count as cycle_risk_count
from reports.receivables.selectors import receivables_figures, receivables_series
from reports.receivables.snapshot import SNAPSHOT as RECEIVABLES_SNAPSHOT
from reports.sales.facts import SNAPSHOT as SALES_SNAPSHOT
from reports.sales.selectors import sales_figures, sales_series
from reports.snapshots import snapshot_as_of
from reports.stock.selectors import stock_figures


@dataclass(frozen=True)
class SalesTotals:
    """Sales of a period: net revenue and orders booked, and the gross margin of what shipped in it."""

    revenue: Decimal
    orders: int
    margin: Decimal | None = None
    margin_rate: Decimal | None = None  # margin over the shipped goods' net amount (0.25 = 25 %)


@dataclass(frozen=True)
class DayTotals:
    day: date
    revenue: Decimal


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
class RiskNote:
    """One reason an order is at risk (a reason key) with its figures; worded by risk_note_text when shown."""

    reason: str
    params: dict


@dataclass(frozen=True)
class RiskRow:
    order_id: int
    number: str
    customer: str
    notes: list[RiskNote]


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


# The snapshots the dashboard's figures come from ("data as of" is the stalest of them).
DASHBOARD_SNAPSHOTS = (SALES_SNAPSHOT, RECEIVABLES_SNAPSHOT, CYCLES_SNAPSHOT)


def data_as_of() -> datetime | None:
    """When the stalest snapshot the figures come from was last brought up to date (None: one was never built)."""
    return snapshot_as_of(*DASHBOARD_SNAPSHOTS)


# --- sales and margin --------------------------------------------------------------------------------------------


def sales_totals(*, start: date, end: date, salesperson_id: int | None = None) -> SalesTotals | None:
    """Net revenue and orders booked from `start` to `end`, and the margin of what shipped in those days."""
    figures = sales_figures(start=start, end=end, salesperson_id=salesperson_id)
    return SalesTotals(revenue=figures.net, orders=figures.orders, margin=figures.margin, margin_rate=figures.margin_rate)


def sales_by_day(*, start: date, end: date, salesperson_id: int | None = None) -> list[DayTotals] | None:
    """Net revenue per day from `start` to `end` (every day, empty ones as 0)."""
    series = sales_series(start=start, end=end, grain="day", salesperson_id=salesperson_id)
    return [DayTotals(bucket.start, bucket.net) for bucket in series]


# --- cycle times and orders at risk ------------------------------------------------------------------------------


def on_time_rate(*, start: date, end: date, salesperson_id: int | None = None) -> Decimal | None:
    """The share of orders delivered from `start` to `end` by the date the customer asked for (0.9 = 90 %)."""
    total = OnTime()
    for figures in on_time_days(start=start, end=end, salesperson_id=salesperson_id).values():
        total.add(figures)
    return total.requested_rate


def orders_at_risk(*, salesperson_id: int | None = None, limit: int = 20) -> RiskFigures | None:
    """How many orders are at risk, how many for each reason, and the `limit` longest in their state, with why."""
    if not limit:
        return risk_counts(salesperson_id=salesperson_id)
    summary = risk_summary(salesperson_id=salesperson_id, limit=limit)
    rows = [
        RiskRow(
            order_id=row.cycle.order_id,
            number=row.order.number,
            customer=row.cycle.customer.name,
            notes=[RiskNote(note.reason, dict(note.params)) for note in row.notes],
        )
        for row in summary.rows
    ]
    return RiskFigures(count=summary.count, by_reason=dict(summary.by_reason), rows=rows)


def risk_counts(*, salesperson_id: int | None = None, clock: RiskClock | None = None) -> RiskFigures:
    """How many orders are at risk and how many for each reason (no rows), in one pass over the open cycle rows."""
    clock = clock or RiskClock.current()
    rows = OrderCycle.objects.filter(risk_open=True).order_by()
    if salesperson_id is not None:
        rows = rows.filter(salesperson_id=salesperson_id)
    reasons = {reason: Count("pk", filter=clock.condition(reason)) for reason in RiskReason.values}
    counts = rows.aggregate(at_risk=Count("pk", filter=clock.any_condition()), **reasons)
    return RiskFigures(count=counts["at_risk"], by_reason={reason: counts[reason] for reason in RiskReason.values}, rows=[])


def orders_at_risk_count(*, salesperson_id: int | None = None) -> int:
    """How many orders are at risk now (one salesperson's, or everyone's)."""
    return cycle_risk_count(salesperson_id=salesperson_id)


def risk_reason_label(key: str) -> str:
    """A reason an order is at risk, in the reader's language."""
    return str(RiskReason(key).label) if key in RiskReason.values else key


def risk_note_text(note: RiskNote) -> str:
    """Why an order is at risk, with its figures, in the reader's language."""
    if note.reason not in RiskReason.values:
        return note.reason
    return CycleRiskNote(note.reason, note.params).text


# --- receivables -------------------------------------------------------------------------------------------------


def receivables(*, as_of: date, salesperson_id: int | None = None) -> ReceivablesFigures:
    """What customers owe at the end of `as_of`: overdue, in total and per ageing bucket (of one salesperson's customers)."""
    if salesperson_id is not None:
        # The receivables snapshot has no salesperson split: one salesperson's customers' open invoices are few and
        # indexed (billing's ageing, one aggregate).
        totals = ageing_totals(as_of=as_of, salesperson_id=salesperson_id)
        return ReceivablesFigures(
            as_of=as_of,
            overdue=totals["overdue"],
            total=totals["total"],
            buckets=[AgeingAmount(b.key, b.first, b.last, totals[b.key]) for b in ageing_buckets()],
        )
    day = min(as_of, timezone.localdate())
    rows = receivables_series(start=day, end=day, grain="day")
    level = rows[0] if rows else {"open_total": ZERO, "overdue_total": ZERO, "buckets": {}}
    return ReceivablesFigures(
        as_of=day,
        overdue=level["overdue_total"],
        total=level["open_total"],
        buckets=[AgeingAmount(b.key, b.first, b.last, level["buckets"].get(b.key, ZERO)) for b in ageing_buckets()],
    )


def receivables_dso_and_received(*, start: date, end: date) -> tuple[Decimal | None, Decimal]:
    """Days sales outstanding (over the last 90 days) at `end`, and the money received from `start` to `end`."""
    dso = receivables_figures(day=end)["dso"]
    received = sum((row["collected"] for row in receivables_series(start=start, end=end, grain="month")), ZERO)
    return dso, received


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


def stock_value_and_outages(*, day: date) -> tuple[Decimal, int]:
    """The stock's value at cost in every warehouse at the end of `day`, and how many products are out of stock."""
    figures = stock_figures(day=day)
    return figures["stock_value"], figures["products_out_of_stock"]

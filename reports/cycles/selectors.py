"""Reads of the cycle snapshot for the Cycle times, Review and Orders at risk pages, the dashboard and home.

Everything here reads the snapshot tables (never the orders' own tables in bulk). A salesperson's figures
(`salesperson_id`) are worked out from the per-order rows; everyone's come from the weekly and daily tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections, router
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import WorkQueue, work_queue
from config.roles import MANAGER, SALES, user_roles
from orders.models import OrderStatus
from reports.access import salesperson_scope
from reports.periods import bucket_start, buckets
from reports.snapshots import snapshot_read

from .models import CycleStageTime, CycleWeek, DeliveryDay, OrderCycle, ReviewCase, ReviewDay, ReviewFlag, ReviewOutcome, Stage
from .refresh import SNAPSHOT, ranked_stage_rows, sql_date
from .risk import RiskClock, RiskNote, RiskReason

CYCLE_STAGES = [Stage.SUBMIT_APPROVE, Stage.APPROVE_ALLOCATE, Stage.ALLOCATE_SHIP, Stage.SHIP_DELIVER, Stage.DELIVER_PAY]
__all__ = ["SNAPSHOT"]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_between(start: date, end: date) -> list[date]:
    """The Mondays of the weeks from the one holding `start` to the one holding `end`."""
    weeks, week = [], monday(start)
    while week <= end:
        weeks.append(week)
        week += timedelta(days=7)
    return weeks


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a fraction to four places, 0.125 for 12.5 % (None when there is nothing to divide)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# --- cycle times ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageWeek:
    stage: str
    week: date | None
    orders: int
    median_seconds: float
    p90_seconds: float


def stage_weeks(*, start: date, end: date, salesperson_id: int | None = None, stages=None) -> list[StageWeek]:
    """Median and 90th percentile of each stage per week, for the weeks from start's to end's (a stage counts
    in the week it ended); one salesperson's are computed from their orders' stage times."""
    stages = list(stages or CYCLE_STAGES)
    first, last = monday(start), monday(end)
    if salesperson_id is None:
        rows = CycleWeek.objects.filter(stage__in=stages, week__gte=first, week__lte=last).order_by("week", "stage")
        return [StageWeek(r.stage, r.week, r.orders, r.median_seconds, r.p90_seconds) for r in rows]
    alias = router.db_for_read(CycleStageTime)
    connection = connections[alias]
    placeholders = ", ".join(["%s"] * len(stages))
    with connection.cursor() as cursor:
        figures = ranked_stage_rows(
            cursor,
            f"AND salesperson_id = %s AND stage IN ({placeholders}) AND week >= %s AND week <= %s",
            [salesperson_id, *stages, sql_date(connection, first), sql_date(connection, last)],
        )
    return [
        StageWeek(stage, week, *values) for (stage, week), values in sorted(figures.items(), key=lambda i: (i[0][1], i[0][0]))
    ]


def stage_period(*, stage: str, start: date, end: date, salesperson_id: int | None = None) -> StageWeek | None:
    """Median and 90th percentile of one stage over the weeks from start's to end's taken together (week: None)."""
    alias = router.db_for_read(CycleStageTime)
    connection = connections[alias]
    where = "AND stage = %s AND week >= %s AND week <= %s"
    params = [stage, sql_date(connection, monday(start)), sql_date(connection, monday(end))]
    if salesperson_id is not None:
        where += " AND salesperson_id = %s"
        params.append(salesperson_id)
    with connection.cursor() as cursor:
        figures = ranked_stage_rows(cursor, where, params, by_week=False)
    found = figures.get((stage, None))
    return StageWeek(stage, None, *found) if found else None


@dataclass
class OnTime:
    """Deliveries and how many came by the requested date and by the ETA."""

    delivered: int = 0
    with_requested: int = 0
    on_time_requested: int = 0
    with_eta: int = 0
    on_time_eta: int = 0

    @property
    def requested_rate(self) -> Decimal | None:
        return rate(self.on_time_requested, self.with_requested)

    @property
    def eta_rate(self) -> Decimal | None:
        return rate(self.on_time_eta, self.with_eta)

    def add(self, other: OnTime) -> None:
        for name in ("delivered", "with_requested", "on_time_requested", "with_eta", "on_time_eta"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


ON_TIME_FIELDS = ("delivered", "with_requested", "on_time_requested", "with_eta", "on_time_eta")


def on_time_days(*, start: date, end: date, salesperson_id: int | None = None) -> dict[date, OnTime]:
    """{day: OnTime} of the days with deliveries between start and end."""
    rows = DeliveryDay.objects.filter(day__gte=start, day__lte=end)
    if salesperson_id is not None:
        rows = rows.filter(salesperson_id=salesperson_id)
    sums = rows.values("day").order_by("day").annotate(**{name: Sum(name) for name in ON_TIME_FIELDS})
    return {row["day"]: OnTime(**{name: row[name] for name in ON_TIME_FIELDS}) for row in sums}


def on_time_weeks(*, start: date, end: date, salesperson_id: int | None = None) -> dict[date, OnTime]:
    """{Monday: OnTime} for every week from start's to end's (empty weeks too)."""
    weeks = {week: OnTime() for week in weeks_between(start, end)}
    for day, figures in on_time_days(start=start, end=end, salesperson_id=salesperson_id).items():
        weeks[monday(day)].add(figures)
    return weeks


@dataclass
class CycleFigures:
    """The dashboard's cycle figures for a period: deliveries on time, and the orders at risk now."""

    on_time: OnTime
    at_risk: int | None  # None while the nightly rebuild holds the snapshot

    @property
    def on_time_rate(self) -> Decimal | None:
        """Share of deliveries (with a requested date) that came by it."""
        return self.on_time.requested_rate

    @property
    def on_time_eta_rate(self) -> Decimal | None:
        return self.on_time.eta_rate


def cycle_figures(*, start: date, end: date, salesperson_id: int | None = None, at_risk=None) -> CycleFigures:
    """On-time delivery (vs requested date and vs ETA) of deliveries from start to end, and the orders at risk now
    (counted by `at_risk(salesperson_id=…)` when given: a page passes the cached count)."""
    total = OnTime()
    for figures in on_time_days(start=start, end=end, salesperson_id=salesperson_id).values():
        total.add(figures)
    count = at_risk or orders_at_risk_count
    return CycleFigures(on_time=total, at_risk=count(salesperson_id=salesperson_id))


# --- review ---------------------------------------------------------------------------------------------


@dataclass
class ReviewTotals:
    checked: int = 0
    flagged: int = 0
    approved: int = 0
    rejected: int = 0
    cancelled: int = 0

    @property
    def pending(self) -> int:
        return self.flagged - self.approved - self.rejected - self.cancelled

    @property
    def flagged_rate(self) -> Decimal | None:
        return rate(self.flagged, self.checked)

    @property
    def approval_rate(self) -> Decimal | None:
        """Approved among the flagged orders a reviewer decided."""
        return rate(self.approved, self.approved + self.rejected)

    def add(self, other: ReviewTotals) -> None:
        for name in ("checked", "flagged", "approved", "rejected", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


REVIEW_FIELDS = ("checked", "flagged", "approved", "rejected", "cancelled")


def review_buckets(*, start: date, end: date, salesperson_id: int | None = None, grain: str = "week") -> dict[date, ReviewTotals]:
    """{bucket start: ReviewTotals} of the submissions checked from start to end, every bucket of `grain`."""
    rows = ReviewDay.objects.filter(day__gte=start, day__lte=end)
    if salesperson_id is not None:
        rows = rows.filter(salesperson_id=salesperson_id)
    found = {key: ReviewTotals() for key in buckets(start, end, grain)}
    sums = rows.values("day").order_by("day").annotate(**{name: Sum(name) for name in REVIEW_FIELDS})
    for row in sums:
        found[bucket_start(row["day"], grain)].add(ReviewTotals(**{name: row[name] for name in REVIEW_FIELDS}))
    return found


def review_rule_buckets(
    *, start: date, end: date, salesperson_id: int | None = None, grain: str = "week"
) -> dict[str, dict[date, int]]:
    """{rule: {bucket start: submissions it flagged}} from start to end."""
    rows = ReviewFlag.objects.filter(day__gte=start, day__lte=end)
    if salesperson_id is not None:
        rows = rows.filter(salesperson_id=salesperson_id)
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows.values("day", "rule").order_by().annotate(n=Count("id")):
        counts[row["rule"]][bucket_start(row["day"], grain)] += row["n"]
    return {rule: dict(found) for rule, found in counts.items()}


@dataclass
class ReviewerLoad:
    reviewer_id: int
    name: str
    approved: int
    rejected: int
    total_seconds: int

    @property
    def decided(self) -> int:
        return self.approved + self.rejected

    @property
    def approval_rate(self) -> Decimal | None:
        return rate(self.approved, self.decided)

    @property
    def average_seconds(self) -> float | None:
        return self.total_seconds / self.decided if self.decided else None


def reviewer_workload(*, start: date, end: date, salesperson_id: int | None = None) -> list[ReviewerLoad]:
    """Per reviewer, the flagged orders they decided from start to end: approved, rejected, time in review."""
    cases = ReviewCase.objects.filter(
        flagged=True,
        decided_on__gte=start,
        decided_on__lte=end,
        reviewer__isnull=False,
        outcome__in=[ReviewOutcome.APPROVED, ReviewOutcome.REJECTED],
    )
    if salesperson_id is not None:
        cases = cases.filter(salesperson_id=salesperson_id)
    rows = (
        cases.values("reviewer_id", "reviewer__username", "reviewer__first_name", "reviewer__last_name")
        .order_by()
        .annotate(
            approved=Count("id", filter=Q(outcome=ReviewOutcome.APPROVED)),
            rejected=Count("id", filter=Q(outcome=ReviewOutcome.REJECTED)),
            total_seconds=Sum("review_seconds"),
        )
    )
    loads = []
    for row in rows:
        name = f"{row['reviewer__first_name']} {row['reviewer__last_name']}".strip() or row["reviewer__username"] or ""
        loads.append(ReviewerLoad(row["reviewer_id"], name, row["approved"], row["rejected"], row["total_seconds"] or 0))
    loads.sort(key=lambda load: (-load.decided, load.name))
    return loads


# --- orders at risk -----------------------------------------------------------------------------------------


@dataclass
class RiskRow:
    """One order at risk as the queue shows it."""

    cycle: OrderCycle
    notes: list[RiskNote] = field(default_factory=list)

    @property
    def order(self):
        return self.cycle.order

    @property
    def status_label(self) -> str:
        return str(OrderStatus(self.cycle.status).label)

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.cycle.order_id])

    @property
    def queue_label(self) -> str:
        """How the row reads on the home page: number, customer and the first reason."""
        reason = self.notes[0].text if self.notes else ""
        return f"{self.cycle.order.number} · {self.cycle.customer.name} — {reason}"


RISK_ORDERINGS = {
    "since": ("status_since", "order_id"),
    "requested": ("requested_date", "order_id"),
    "due": ("payment_due", "order_id"),
    "-total": ("-order__total", "order_id"),
}


def _open_rows(*, salesperson_id: int | None = None, status: str = "", customer_text: str = "") -> QuerySet[OrderCycle]:
    """The open cycle rows (the ones the risk conditions look at) in the queue's scope and filters."""
    rows = OrderCycle.objects.filter(risk_open=True)
    if salesperson_id is not None:
        rows = rows.filter(salesperson_id=salesperson_id)
    if status:
        rows = rows.filter(status=status)
    if customer_text:
        rows = rows.filter(customer__name__icontains=customer_text)
    return rows


def orders_at_risk(
    *,
    salesperson_id: int | None = None,
    reasons: list[str] | None = None,
    status: str = "",
    customer_text: str = "",
    ordering: str = "since",
    clock: RiskClock | None = None,
) -> QuerySet[OrderCycle]:
    """The cycle rows of the orders at risk for any of `reasons` (all by default), oldest in their state first."""
    clock = clock or RiskClock.current()
    rows = _open_rows(salesperson_id=salesperson_id, status=status, customer_text=customer_text)
    return rows.filter(clock.any_condition(reasons)).order_by(*RISK_ORDERINGS.get(ordering, RISK_ORDERINGS["since"]))


def risk_reason_counts(
    *, clock: RiskClock, salesperson_id: int | None = None, status: str = "", customer_text: str = "", **_ignored
) -> dict[str, int]:
    """{reason: orders at risk for it} under the other filters, in one pass over the open rows (each count
    tests its own reason only)."""
    rows = _open_rows(salesperson_id=salesperson_id, status=status, customer_text=customer_text).order_by()
    counts = rows.aggregate(**{reason: Count("pk", filter=clock.condition(reason)) for reason in RiskReason.values})
    return {reason: counts[reason] for reason in RiskReason.values}


def risk_rows(cycles, *, clock: RiskClock) -> list[RiskRow]:
    """A page of cycle rows (with order, customer and salesperson selected) and why each is at risk."""
    return [RiskRow(cycle, clock.reasons_of(cycle)) for cycle in cycles]


def orders_at_risk_count(*, salesperson_id: int | None = None, reasons: list[str] | None = None) -> int | None:
    """How many orders are at risk now (the dashboard's and the homes' figure; one salesperson's, or everyone's);
    None for the moment the nightly rebuild holds the snapshot (a home page never waits for it)."""
    return snapshot_read(lambda: orders_at_risk(salesperson_id=salesperson_id, reasons=reasons).count(), default=None)


@dataclass
class RiskSummary:
    """The orders at risk at a glance: how many, how many for each reason, and the first few with why."""

    count: int
    by_reason: dict[str, int]
    rows: list[RiskRow]


def risk_summary(*, salesperson_id: int | None = None, limit: int = 20) -> RiskSummary:
    """For the dashboard and the nightly report: the count, the count per reason (RiskReason keys, labels from
    RiskReason(key).label) and the `limit` orders longest in their state, each with its worded reasons."""
    clock = RiskClock.current()
    rows = orders_at_risk(salesperson_id=salesperson_id, clock=clock)
    first = list(rows.select_related("order", "customer", "salesperson")[:limit]) if limit else []
    return RiskSummary(
        count=rows.count(),
        by_reason=risk_reason_counts(clock=clock, salesperson_id=salesperson_id),
        rows=risk_rows(first, clock=clock),
    )


def home_queues(user) -> list[WorkQueue]:
    """Managers see every order at risk on their home page, salespeople their own."""
    if not user.has_perm("reports.view_risk_queue"):
        return []
    groups = user_roles(user)
    if not groups & {MANAGER, SALES}:
        return []
    clock = RiskClock.current()
    scope = salesperson_scope(user)
    title, url = _("Orders at risk"), reverse("reports:at_risk")
    role = MANAGER if scope is None else SALES

    def read() -> WorkQueue:
        queue = work_queue(
            title=title,
            url=url,
            queryset=orders_at_risk(salesperson_id=scope, clock=clock).select_related("order", "customer"),
            empty_text=_("No order is at risk."),
            role=role,
        )
        queue.items = risk_rows(queue.items, clock=clock)
        return queue

    rebuilding = WorkQueue(
        title=title, url=url, count=0, empty_text=_("The orders at risk are being rebuilt; look again in a minute."), role=role
    )
    return [snapshot_read(read, default=rebuilding)]

"""What the Cycle times, Review and Orders at risk pages show: their figures, charts and tables
(reports.pages.ReportResult), built from the selectors over the cycle snapshot."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from orders.models import OrderStatus, ReviewRule
from reports.pages import Chart, Column, Figure, ReportResult
from reports.periods import bucket_label
from reports.snapshots import snapshot_as_of

from .cached import at_risk_now
from .forms import figures_scope
from .models import Stage
from .refresh import SNAPSHOT
from .selectors import (
    CYCLE_STAGES,
    ReviewTotals,
    RiskRow,
    cycle_figures,
    on_time_weeks,
    rate,
    review_buckets,
    review_rule_buckets,
    reviewer_workload,
    stage_period,
    stage_weeks,
    weeks_between,
)

STAGE_LABELS = dict(Stage.choices)
RULE_LABELS = dict(ReviewRule.choices)
STATUS_LABELS = dict(OrderStatus.choices)
DAY = 86400


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 2)


# --- cycle times -----------------------------------------------------------------------------------------


def cycle_times_report(data: dict, user) -> ReportResult:
    """Per week: deliveries, on time vs requested date and vs ETA, and each stage's median and 90th percentile."""
    start, end = data["start"], data["end"]
    salesperson_id = figures_scope(data, user)
    weeks = weeks_between(start, end)
    figures = {(row.stage, row.week): row for row in stage_weeks(start=start, end=end, salesperson_id=salesperson_id)}
    on_time = on_time_weeks(start=start, end=end, salesperson_id=salesperson_id)
    rows = []
    for week in weeks:
        delivered = on_time[week]
        row = {
            "week": bucket_label(week, "week"),
            "delivered": delivered.delivered,
            "on_time_requested": delivered.requested_rate,
            "on_time_eta": delivered.eta_rate,
        }
        for stage in CYCLE_STAGES:
            found = figures.get((stage, week))
            row[f"{stage}_orders"] = found.orders if found else None
            row[f"{stage}_median"] = found.median_seconds if found else None
            row[f"{stage}_p90"] = found.p90_seconds if found else None
        rows.append(row)
    columns = [
        Column("week", _("Week")),
        Column("delivered", _("Delivered"), "int"),
        Column("on_time_requested", _("On time vs requested date"), "percent"),
        Column("on_time_eta", _("On time vs ETA"), "percent"),
    ]
    for stage in CYCLE_STAGES:
        columns += [
            Column(f"{stage}_median", format_lazy("{}: {}", STAGE_LABELS[stage], _("median")), "duration"),
            Column(f"{stage}_p90", format_lazy("{}: {}", STAGE_LABELS[stage], _("90th percentile")), "duration"),
        ]
    period = cycle_figures(start=start, end=end, salesperson_id=salesperson_id, at_risk=at_risk_now)
    labels = [row["week"] for row in rows]
    charts = [
        Chart(
            "stacked_bar",
            _("Median days in each stage, by week"),
            labels,
            [(STAGE_LABELS[stage], [_days(row[f"{stage}_median"]) for row in rows]) for stage in CYCLE_STAGES],
        ),
        Chart(
            "line",
            _("On-time delivery by week (%)"),
            labels,
            [
                (_("vs requested date"), [_percent(row["on_time_requested"]) for row in rows]),
                (_("vs ETA"), [_percent(row["on_time_eta"]) for row in rows]),
            ],
        ),
    ]
    return ReportResult(
        columns=columns,
        rows=rows if any(row["delivered"] or _any_stage(row) for row in rows) else [],
        charts=charts,
        figures=[
            Figure(_("On time vs requested date"), period.on_time_rate, "percent"),
            Figure(_("On time vs ETA"), period.on_time_eta_rate, "percent"),
            Figure(_("Orders delivered"), period.on_time.delivered, "int"),
            Figure(_("Orders at risk now"), period.at_risk, "int", url=reverse("reports:at_risk")),
        ],
        as_of=snapshot_as_of(SNAPSHOT),
        notes=[
            _(
                "A stage counts in the week it ended. Shipped: everything on the order has left; delivered: every "
                "shipment arrived; paid: the order's invoices are settled (an order paid before delivery waited 0)."
            ),
            _("On time: delivered on or before the requested date (or the ETA); orders without one are left out of that rate."),
        ],
    )


def _percent(value) -> float | None:
    return None if value is None else float(value * 100)


def _any_stage(row: dict) -> bool:
    return any(row[f"{stage}_orders"] for stage in CYCLE_STAGES)


# --- review -------------------------------------------------------------------------------------------------


def review_report(data: dict, user) -> ReportResult:
    """Checked and flagged submissions, flags per rule, approval rate, time in review and each reviewer's decisions."""
    start, end, grain = data["start"], data["end"], data["grain"]
    salesperson_id = figures_scope(data, user)
    per_bucket = review_buckets(start=start, end=end, salesperson_id=salesperson_id, grain=grain)
    keys = list(per_bucket)
    totals = ReviewTotals()
    for figures in per_bucket.values():
        totals.add(figures)
    rules = review_rule_buckets(start=start, end=end, salesperson_id=salesperson_id, grain=grain)
    loads = reviewer_workload(start=start, end=end, salesperson_id=salesperson_id)
    review_time = stage_period(stage=Stage.REVIEW, start=start, end=end, salesperson_id=salesperson_id)
    labels = [bucket_label(key, grain) for key in keys]
    charts = [
        Chart(
            "stacked_bar",
            _("Submissions flagged per rule"),
            labels,
            [(RULE_LABELS.get(rule, rule), [counts.get(key, 0) for key in keys]) for rule, counts in sorted(rules.items())],
        ),
        Chart(
            "hbar",
            _("Decisions per reviewer"),
            [load.name for load in loads],
            [(_("Approved"), [load.approved for load in loads]), (_("Rejected"), [load.rejected for load in loads])],
        ),
    ]
    breakdown = data.get("breakdown") or "period"
    if breakdown == "rule":
        columns, rows, footer = _rule_table(rules)
    elif breakdown == "reviewer":
        columns, rows, footer = _reviewer_table(loads)
    else:
        columns, rows, footer = _period_table(keys, per_bucket, grain, totals)
    average = sum(load.total_seconds for load in loads) / sum(load.decided for load in loads) if loads else None
    return ReportResult(
        columns=columns,
        rows=rows,
        totals=footer,
        charts=charts,
        figures=[
            Figure(_("Submissions checked"), totals.checked, "int"),
            Figure(_("Flagged for review"), totals.flagged_rate, "percent"),
            Figure(_("Approval rate"), totals.approval_rate, "percent"),
            Figure(_("Median time in review"), review_time.median_seconds if review_time else None, "duration"),
            Figure(_("90th percentile of time in review"), review_time.p90_seconds if review_time else None, "duration"),
            Figure(_("Average time in review"), average, "duration"),
        ],
        as_of=snapshot_as_of(SNAPSHOT),
        notes=[
            _(
                "Submissions count on the day the automatic checks judged them; a reviewer's decisions on the day "
                "they were made. Approval rate: approved among the flagged submissions a reviewer decided."
            )
        ],
    )


def _period_table(keys: list[date], per_bucket: dict, grain: str, totals: ReviewTotals):
    columns = [
        Column("period", _("Period")),
        Column("checked", _("Checked"), "int"),
        Column("flagged", _("Flagged"), "int"),
        Column("flagged_rate", _("Flagged share"), "percent"),
        Column("approved", _("Approved"), "int"),
        Column("rejected", _("Rejected"), "int"),
        Column("pending", _("Still in review"), "int"),
        Column("approval_rate", _("Approval rate"), "percent"),
    ]

    def line(label, figures: ReviewTotals) -> dict:
        return {
            "period": label,
            "checked": figures.checked,
            "flagged": figures.flagged,
            "flagged_rate": figures.flagged_rate,
            "approved": figures.approved,
            "rejected": figures.rejected,
            "pending": figures.pending,
            "approval_rate": figures.approval_rate,
        }

    rows = [line(bucket_label(key, grain), per_bucket[key]) for key in keys]
    if not totals.checked:
        return columns, [], None
    return columns, rows, line(_("Total"), totals)


def _rule_table(rules: dict[str, dict[date, int]]):
    columns = [
        Column("rule", _("Rule")),
        Column("flagged", _("Submissions flagged"), "int"),
        Column("share", _("Share"), "percent"),
    ]
    counts = {rule: sum(weeks.values()) for rule, weeks in rules.items()}
    total = sum(counts.values())
    rows = [
        {"rule": str(RULE_LABELS.get(rule, rule)), "flagged": count, "share": rate(count, total)}
        for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return columns, rows, ({"rule": _("Total"), "flagged": total, "share": None} if rows else None)


def _reviewer_table(loads):
    columns = [
        Column("reviewer", _("Reviewer")),
        Column("decided", _("Decided"), "int"),
        Column("approved", _("Approved"), "int"),
        Column("rejected", _("Rejected"), "int"),
        Column("approval_rate", _("Approval rate"), "percent"),
        Column("average", _("Average time in review"), "duration"),
    ]
    rows = [
        {
            "reviewer": load.name,
            "decided": load.decided,
            "approved": load.approved,
            "rejected": load.rejected,
            "approval_rate": load.approval_rate,
            "average": load.average_seconds,
        }
        for load in loads
    ]
    return columns, rows, None


# --- orders at risk: the PDF and the files -----------------------------------------------------------------


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def risk_columns() -> list[Column]:
    return [
        Column("order", _("Order")),
        Column("customer", _("Customer")),
        Column("salesperson", _("Salesperson")),
        Column("status", _("Status")),
        Column("since", _("In this status since"), "date"),
        Column("requested", _("Requested delivery date"), "date"),
        Column("eta", _("Expected delivery"), "date"),
        Column("total", _("Total"), "money"),
        Column("why", _("Why")),
    ]


def risk_row_dict(row: RiskRow) -> dict:
    cycle = row.cycle
    return {
        "order": cycle.order.number,
        "customer": cycle.customer.name,
        "salesperson": _person(cycle.salesperson),
        "status": str(STATUS_LABELS.get(cycle.status, cycle.status)),
        "since": timezone.localtime(cycle.status_since).date(),
        "requested": cycle.requested_date,
        "eta": cycle.eta,
        "total": cycle.order.total,
        "why": " ".join(note.text for note in row.notes),
    }


def risk_export_headers() -> list:
    return [column.label for column in risk_columns()]


def risk_export_row(row: RiskRow) -> list:
    values = risk_row_dict(row)
    return [values[column.key] for column in risk_columns()]


def risk_result(rows: list[RiskRow], *, as_of) -> ReportResult:
    return ReportResult(columns=risk_columns(), rows=[risk_row_dict(row) for row in rows], as_of=as_of)


def cells(result: ReportResult) -> list[list[dict]]:
    """The rows as the PDF template's cells."""
    return [[{"value": row.get(c.key), "kind": c.kind, "link": None} for c in result.columns] for row in result.rows]

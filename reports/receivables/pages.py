"""The receivables report's tables and charts: ageing over time, DSO, the overdue trend and collections by
payment method, from the daily receivables snapshot."""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.ageing import ageing_buckets
from config.money import ZERO
from reports.pages import Chart, Column, Figure, ReportResult

from .selectors import collections_by_method, receivables_as_of, receivables_series


def _ageing(series: list[dict]) -> ReportResult:
    buckets = ageing_buckets()
    rows = [{**row, **{f"bucket_{b.key}": row["buckets"][b.key] for b in buckets}} for row in series]
    last = series[-1] if series else None
    return ReportResult(
        columns=[
            Column("label", _("Period")),
            *[Column(f"bucket_{b.key}", b.label, "money") for b in buckets],
            Column("overdue_total", _("Overdue"), "money"),
            Column("open_total", _("Open receivables"), "money"),
        ],
        rows=rows,
        charts=[
            Chart(
                "stacked_bar",
                _("Receivables by days past due"),
                [row["label"] for row in series],
                [(b.label, [row["buckets"][b.key] for row in series]) for b in buckets],
                money=True,
            )
        ]
        if series
        else [],
        figures=[
            Figure(_("Open receivables"), last["open_total"] if last else ZERO, "money"),
            Figure(_("Overdue"), last["overdue_total"] if last else ZERO, "money"),
        ],
        notes=[_("Amounts still owed at the end of each period, by days past their due date.")],
    )


def _dso(series: list[dict]) -> ReportResult:
    return ReportResult(
        columns=[
            Column("label", _("Period")),
            Column("invoiced", _("Invoiced"), "money"),
            Column("credited", _("Credited"), "money"),
            Column("collected", _("Money received"), "money"),
            Column("open_total", _("Open receivables"), "money"),
            Column("dso", _("DSO (days)"), "days"),
        ],
        rows=series,
        totals={
            "label": _("Total"),
            "invoiced": sum((row["invoiced"] for row in series), ZERO),
            "credited": sum((row["credited"] for row in series), ZERO),
            "collected": sum((row["collected"] for row in series), ZERO),
        }
        if series
        else None,
        charts=[
            Chart("line", _("Days sales outstanding"), [r["label"] for r in series], [(_("DSO"), [r["dso"] for r in series])])
        ]
        if series
        else [],
        figures=[Figure(_("DSO (days)"), series[-1]["dso"] if series else None, "days")],
        notes=[_("DSO: receivables open at the end of a period ÷ what was invoiced in it × its days.")],
    )


def _overdue(series: list[dict]) -> ReportResult:
    return ReportResult(
        columns=[
            Column("label", _("Period")),
            Column("overdue_total", _("Overdue"), "money"),
            Column("open_total", _("Open receivables"), "money"),
            Column("overdue_share", _("Overdue share"), "percent"),
        ],
        rows=series,
        charts=[
            Chart(
                "line",
                _("Overdue receivables"),
                [r["label"] for r in series],
                [
                    (_("Overdue"), [r["overdue_total"] for r in series]),
                    (_("Open receivables"), [r["open_total"] for r in series]),
                ],
                money=True,
            )
        ]
        if series
        else [],
        figures=[
            Figure(_("Overdue"), series[-1]["overdue_total"] if series else ZERO, "money"),
            Figure(_("Overdue share"), series[-1]["overdue_share"] if series else None, "percent"),
        ],
    )


def _collections(data: dict) -> ReportResult:
    collections = collections_by_method(start=data["start"], end=data["end"], grain=data["grain"])
    methods = collections["methods"]
    rows = [
        {
            "label": row["label"],
            "total": row["total"],
            "payments": row["payments"],
            **{f"m_{m}": a for m, a in row["amounts"].items()},
        }
        for row in collections["rows"]
    ]
    total = sum((row["total"] for row in rows), ZERO)
    totals = {"label": _("Total"), "total": total, "payments": sum(row["payments"] for row in rows)}
    for method, _label in methods:
        totals[f"m_{method}"] = sum((row[f"m_{method}"] for row in rows), ZERO)
    return ReportResult(
        columns=[
            Column("label", _("Period")),
            *[Column(f"m_{method}", str(label), "money") for method, label in methods],
            Column("total", _("Money received"), "money"),
            Column("payments", _("Payments"), "int"),
        ],
        rows=rows if methods else [],
        totals=totals if methods else None,
        charts=[
            Chart(
                "stacked_bar",
                _("Collections by payment method"),
                collections["labels"],
                [(str(label), [row["amounts"][method] for row in collections["rows"]]) for method, label in methods],
                money=True,
            )
        ]
        if methods
        else [],
        figures=[Figure(_("Money received"), total, "money"), Figure(_("Payments"), totals["payments"], "int")],
        notes=[_("Payments received (not voided), by the day they were received.")],
    )


def build_receivables_report(data: dict, user) -> ReportResult:
    """The table the form asks for, over the period."""
    view = data["view"]
    if view == "collections":
        result = _collections(data)
    else:
        series = receivables_series(start=data["start"], end=data["end"], grain=data["grain"])
        result = {"ageing": _ageing, "dso": _dso}.get(view, _overdue)(series)
    result.as_of = receivables_as_of()
    return result

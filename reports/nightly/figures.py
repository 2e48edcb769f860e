"""The figures of one nightly report, read once and kept with it as JSON (numbers as strings, dates as ISO text).

`figures_read(day=…)` reads them from the report areas (reports.dashboard.sources); `figures_dump` and
`figures_load` turn them into the JSON the report row keeps and back, so every language's files and a
second run of the same day are written from the very same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from reports.dashboard import sources
from reports.dashboard.sources import (
    AgeingAmount,
    DayTotals,
    ReceivablesFigures,
    RiskFigures,
    RiskNote,
    RiskRow,
    SalesTotals,
    StockAlertRow,
    StockAlerts,
)

FORMAT = 1
# The report lists this many orders at risk and stock alerts (the pages behind its links hold them all).
LIST_ROWS = 30


@dataclass(frozen=True)
class NightlyFigures:
    day: date  # the day reported on
    month_start: date
    yesterday: SalesTotals | None
    month: SalesTotals | None
    on_time_yesterday: Decimal | None
    on_time_month: Decimal | None
    daily: list[DayTotals] | None
    risk: RiskFigures | None
    stock_alerts: StockAlerts
    receivables: ReceivablesFigures
    as_of: datetime | None = None  # when the stalest snapshot read was last brought up to date


def figures_read(*, day: date) -> NightlyFigures:
    """Yesterday's and the month's figures as the areas hold them now; the lists as they stand this morning."""
    month_start = day.replace(day=1)
    return NightlyFigures(
        day=day,
        month_start=month_start,
        yesterday=sources.sales_totals(start=day, end=day),
        month=sources.sales_totals(start=month_start, end=day),
        on_time_yesterday=sources.on_time_rate(start=day, end=day),
        on_time_month=sources.on_time_rate(start=month_start, end=day),
        daily=sources.sales_by_day(start=month_start, end=day),
        risk=sources.orders_at_risk(limit=LIST_ROWS),
        stock_alerts=sources.stock_alerts(limit=LIST_ROWS),
        receivables=sources.receivables(as_of=day),
        as_of=sources.data_as_of(),
    )


# --- to and from JSON ---------------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _sales_dump(totals: SalesTotals | None) -> dict | None:
    if totals is None:
        return None
    return {
        "revenue": str(totals.revenue),
        "orders": totals.orders,
        "margin": _money(totals.margin),
        "margin_rate": _money(totals.margin_rate),
    }


def _sales_load(data: dict | None) -> SalesTotals | None:
    if data is None:
        return None
    return SalesTotals(
        revenue=Decimal(data["revenue"]),
        orders=data["orders"],
        margin=_decimal(data["margin"]),
        margin_rate=_decimal(data["margin_rate"]),
    )


def _note_dump(note: RiskNote) -> dict:
    """A risk note's figures as JSON: its dates as ISO text, named in "dates" to be read back as dates."""
    dates = sorted(key for key, value in note.params.items() if isinstance(value, date))
    params = {key: value.isoformat() if key in dates else value for key, value in note.params.items()}
    return {"reason": note.reason, "params": params, "dates": dates}


def _note_load(data: dict) -> RiskNote:
    dates = set(data.get("dates", ()))
    params = {key: date.fromisoformat(value) if key in dates else value for key, value in data["params"].items()}
    return RiskNote(reason=data["reason"], params=params)


def _risk_row(data: dict) -> RiskRow:
    notes = [_note_load(n) for n in data["notes"]]
    return RiskRow(order_id=data["order_id"], number=data["number"], customer=data["customer"], notes=notes)


def figures_dump(figures: NightlyFigures) -> dict:
    """The figures as JSON values: what the report row keeps."""
    risk = figures.risk
    return {
        "format": FORMAT,
        "as_of": figures.as_of.isoformat() if figures.as_of else None,
        "day": figures.day.isoformat(),
        "month_start": figures.month_start.isoformat(),
        "yesterday": _sales_dump(figures.yesterday),
        "month": _sales_dump(figures.month),
        "on_time_yesterday": _money(figures.on_time_yesterday),
        "on_time_month": _money(figures.on_time_month),
        "daily": None
        if figures.daily is None
        else [{"day": d.day.isoformat(), "revenue": str(d.revenue)} for d in figures.daily],
        "risk": None
        if risk is None
        else {
            "count": risk.count,
            "by_reason": risk.by_reason,
            "rows": [
                {
                    "order_id": r.order_id,
                    "number": r.number,
                    "customer": r.customer,
                    "notes": [_note_dump(n) for n in r.notes],
                }
                for r in risk.rows
            ],
        },
        "stock_alerts": {
            "count": figures.stock_alerts.count,
            "rows": [
                {
                    "sku": a.sku,
                    "product": a.product,
                    "warehouse": a.warehouse,
                    "available": a.available,
                    "safety_stock": a.safety_stock,
                }
                for a in figures.stock_alerts.rows
            ],
        },
        "receivables": {
            "as_of": figures.receivables.as_of.isoformat(),
            "overdue": str(figures.receivables.overdue),
            "total": str(figures.receivables.total),
            "buckets": [
                {"key": b.key, "first": b.first, "last": b.last, "amount": str(b.amount)} for b in figures.receivables.buckets
            ],
        },
    }


def figures_load(data: dict) -> NightlyFigures:
    """The figures a report row keeps, as the typed records the documents are written from."""
    risk = data["risk"]
    receivables = data["receivables"]
    return NightlyFigures(
        as_of=datetime.fromisoformat(data["as_of"]) if data.get("as_of") else None,
        day=date.fromisoformat(data["day"]),
        month_start=date.fromisoformat(data["month_start"]),
        yesterday=_sales_load(data["yesterday"]),
        month=_sales_load(data["month"]),
        on_time_yesterday=_decimal(data["on_time_yesterday"]),
        on_time_month=_decimal(data["on_time_month"]),
        daily=None
        if data["daily"] is None
        else [DayTotals(date.fromisoformat(d["day"]), Decimal(d["revenue"])) for d in data["daily"]],
        risk=None
        if risk is None
        else RiskFigures(count=risk["count"], by_reason=dict(risk["by_reason"]), rows=[_risk_row(r) for r in risk["rows"]]),
        stock_alerts=StockAlerts(
            count=data["stock_alerts"]["count"], rows=[StockAlertRow(**a) for a in data["stock_alerts"]["rows"]]
        ),
        receivables=ReceivablesFigures(
            as_of=date.fromisoformat(receivables["as_of"]),
            overdue=Decimal(receivables["overdue"]),
            total=Decimal(receivables["total"]),
            buckets=[AgeingAmount(b["key"], b["first"], b["last"], Decimal(b["amount"])) for b in receivables["buckets"]],
        ),
    )

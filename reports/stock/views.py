"""The stock report: levels and value per warehouse, turnover and days of cover, slow movers, dead
stock, stock-outs and count variances, each a table with its chart, from the daily stock snapshot."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import permission_required
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.money import ZERO
from reports.pages import Chart, Column, Figure, ReportResult, report_page

from .forms import StockReportForm
from .selectors import (
    count_variances,
    dead_stock,
    product_figures,
    slow_movers,
    stock_as_of,
    stockouts,
    warehouse_levels,
    warehouse_series,
)

TOP = 10


def _product_link(row: dict) -> str | None:
    """The product's stock page (the totals row has none)."""
    return reverse("inventory:product_stock", args=[row["product_id"]]) if row.get("product_id") else None


def _sku_columns() -> list[Column]:
    return [Column("sku", _("SKU"), link=_product_link), Column("name", _("Product"))]


def _top_chart(rows: list[dict], *, key: str, title: str, money: bool = True) -> list[Chart]:
    top = rows[:TOP]
    if not top:
        return []
    return [Chart("hbar", title, [row["sku"] for row in top], [(title, [row[key] for row in top])], money=money)]


def _levels(data: dict, warehouse) -> ReportResult:
    start, end = data["start"], data["end"]
    levels = warehouse_levels(day=end)
    rows = [row for row in levels if row["warehouse_id"] is not None]
    if warehouse is not None:
        rows = [row for row in rows if row["warehouse_id"] == warehouse.pk]
    everywhere = next(row for row in levels if row["warehouse_id"] is None)
    shown = rows if warehouse is not None else [*rows]
    series = warehouse_series(start=start, end=end, grain=data["grain"], warehouse_ids=[row["warehouse_id"] for row in shown])
    value_series = [
        (row["code"], [point["value"] if point else None for point in series["warehouses"][row["warehouse_id"]]]) for row in shown
    ]
    totals = None
    if warehouse is None:
        totals = {**everywhere, "code": _("All warehouses")}
    headline = everywhere if warehouse is None else (rows[0] if rows else everywhere)
    return ReportResult(
        columns=[
            Column("code", _("Warehouse")),
            Column("name", _("Name")),
            Column("on_hand", _("On hand"), "int"),
            Column("reserved", _("Reserved"), "int"),
            Column("available", _("Available"), "int"),
            Column("value", _("Value at cost"), "money"),
            Column("products_stocked", _("Products in stock"), "int"),
            Column("products_out", _("Products out of stock"), "int"),
        ],
        rows=[row for row in rows if row["on_hand"] or row["products_stocked"] or row["products_out"]],
        totals=totals,
        charts=[Chart("line", _("Stock value at cost"), series["labels"], value_series, money=True)] if value_series else [],
        figures=[
            Figure(_("Stock value at cost"), headline["value"], "money"),
            Figure(_("Units on hand"), headline["on_hand"], "int"),
            Figure(_("Products out of stock"), headline["products_out"], "int"),
        ],
        notes=[_("Levels at the end of %(day)s.") % {"day": end.isoformat()}],
    )


def _turnover_columns() -> list[Column]:
    return [
        *_sku_columns(),
        Column("on_hand", _("On hand"), "int"),
        Column("value", _("Value at cost"), "money"),
        Column("average_value", _("Average value"), "money"),
        Column("shipped", _("Units shipped"), "int"),
        Column("shipped_value", _("Cost of goods shipped"), "money"),
        Column("turnover", _("Turnover"), "days"),
        Column("days_of_cover", _("Days of cover"), "days"),
        Column("days_out", _("Days out of stock"), "int"),
    ]


def _turnover(figures: list[dict]) -> ReportResult:
    rows = sorted(figures, key=lambda f: (-f["shipped_value"], f["sku"]))
    cost = sum((f["shipped_value"] for f in figures), ZERO)
    average = sum((f["average_value"] for f in figures), ZERO)
    turnover = (cost / average).quantize(Decimal("0.01")) if average else None
    totals = {
        "sku": _("Total"),
        "on_hand": sum(f["on_hand"] for f in figures),
        "value": sum((f["value"] for f in figures), ZERO),
        "average_value": average,
        "shipped": sum(f["shipped"] for f in figures),
        "shipped_value": cost,
        "turnover": turnover,
    }
    return ReportResult(
        columns=_turnover_columns(),
        rows=rows,
        totals=totals if figures else None,
        charts=_top_chart(rows, key="shipped_value", title=_("Cost of goods shipped, top products")),
        figures=[Figure(_("Cost of goods shipped"), cost, "money"), Figure(_("Turnover"), turnover, "days")],
        notes=[
            _("Turnover is the cost of goods shipped in the period divided by the average stock value at cost."),
            _("Days of cover: stock at the end of the period divided by the units shipped per day in it."),
        ],
    )


def _slow(figures: list[dict], cover_days: int) -> ReportResult:
    rows = slow_movers(figures, cover_days=cover_days)
    tied = sum((row["value"] for row in rows), ZERO)
    return ReportResult(
        columns=_turnover_columns(),
        rows=rows,
        charts=_top_chart(rows, key="days_of_cover", title=_("Days of cover, slowest products"), money=False),
        figures=[Figure(_("Slow movers"), len(rows), "int"), Figure(_("Value at cost"), tied, "money")],
        notes=[
            _("Products still shipping whose stock lasts more than %(days)s days at the period's rate of shipping.")
            % {"days": cover_days}
        ],
    )


def _dead(figures: list[dict], end, dead_days: int) -> ReportResult:
    rows = dead_stock(figures, end=end, idle_days=dead_days)
    tied = sum((row["value"] for row in rows), ZERO)
    return ReportResult(
        columns=[
            *_sku_columns(),
            Column("on_hand", _("On hand"), "int"),
            Column("value", _("Value at cost"), "money"),
            Column("last_shipped_on", _("Last shipped"), "date"),
            Column("idle_days", _("Days without a shipment"), "int"),
        ],
        rows=rows,
        totals={"sku": _("Total"), "on_hand": sum(row["on_hand"] for row in rows), "value": tied} if rows else None,
        charts=_top_chart(rows, key="value", title=_("Dead stock value at cost, largest")),
        figures=[Figure(_("Dead stock"), len(rows), "int"), Figure(_("Value at cost"), tied, "money")],
        notes=[_("Products in stock with no shipment in the %(days)s days up to the end of the period.") % {"days": dead_days}],
    )


def _stockouts(data: dict, figures: list[dict], warehouse) -> ReportResult:
    rows = stockouts(figures)
    series = warehouse_series(
        start=data["start"], end=data["end"], grain=data["grain"], warehouse_ids=[warehouse.pk if warehouse else None]
    )
    points = next(iter(series["warehouses"].values()))
    title = _("Products out of stock")
    return ReportResult(
        columns=[
            *_sku_columns(),
            Column("days_out", _("Days out of stock"), "int"),
            Column("on_hand", _("On hand"), "int"),
            Column("last_shipped_on", _("Last shipped"), "date"),
        ],
        rows=rows,
        charts=[Chart("line", title, series["labels"], [(title, [p["products_out"] if p else None for p in points])])],
        figures=[
            Figure(_("Products out of stock now"), sum(1 for f in figures if f["out_now"]), "int"),
            Figure(_("Products out of stock in the period"), len(rows), "int"),
        ],
        notes=[_("A day out of stock is a day that ended with nothing on hand.")],
    )


def _variances(data: dict, warehouse) -> ReportResult:
    rows = count_variances(
        start=data["start"], end=data["end"], grain=data["grain"], warehouse_id=warehouse.pk if warehouse else None
    )
    keys = ("counts", "lines", "lines_off", "units_over", "units_short", "net_units", "value_over", "value_short", "net_value")
    totals = {key: sum((row[key] for row in rows), ZERO if key.startswith(("value", "net_value")) else 0) for key in keys}
    return ReportResult(
        columns=[
            Column("label", _("Period")),
            Column("counts", _("Counts posted"), "int"),
            Column("lines", _("Lines counted"), "int"),
            Column("lines_off", _("Lines with a variance"), "int"),
            Column("units_over", _("Units found over"), "int"),
            Column("units_short", _("Units found short"), "int"),
            Column("value_over", _("Value over"), "money"),
            Column("value_short", _("Value short"), "money"),
            Column("net_value", _("Net variance"), "money"),
        ],
        rows=rows if totals["lines"] else [],
        totals={**totals, "label": _("Total")} if totals["lines"] else None,
        charts=[
            Chart(
                "bar",
                _("Count variances at cost"),
                [row["label"] for row in rows],
                [
                    (_("Value over"), [row["value_over"] for row in rows]),
                    (_("Value short"), [row["value_short"] for row in rows]),
                ],
                money=True,
            )
        ]
        if totals["lines"]
        else [],
        figures=[Figure(_("Net variance"), totals["net_value"], "money"), Figure(_("Lines counted"), totals["lines"], "int")],
        notes=[_("Posted stock counts, valued at the cost each count was opened with.")],
    )


def build_stock_report(data: dict, user) -> ReportResult:
    """The table the form asks for, over the period, in one warehouse or all."""
    view, warehouse = data["view"], data.get("warehouse")
    if view == "levels":
        result = _levels(data, warehouse)
    elif view == "variances":
        result = _variances(data, warehouse)
    else:
        figures = product_figures(start=data["start"], end=data["end"], warehouse_id=warehouse.pk if warehouse else None)
        if view == "turnover":
            result = _turnover(figures)
        elif view == "slow":
            result = _slow(figures, data["cover_days"])
        elif view == "dead":
            result = _dead(figures, data["end"], data["dead_days"])
        else:
            result = _stockouts(data, figures, warehouse)
    result.as_of = stock_as_of()
    return result


@permission_required("reports.view_stock_report", raise_exception=True)
def stock_report(request):
    """Warehouse staff and managers: the stock report, as a page or exported."""
    return report_page(
        request, name="stock", title=gettext_lazy("Stock report"), form=StockReportForm(request.GET), build=build_stock_report
    )

"""The Sales and Margin reports as the shared report page shows them: figures, a chart, a table, notes.

`build_sales_report` and `build_margin_report` take the form's cleaned data and the reader, read the
sales facts through the selectors (two queries: the period and, when asked, the comparison period)
and say in their notes which orders and which dates count.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from config.money import ZERO
from reports.access import salesperson_scope
from reports.pages import Chart, Column, Figure, ReportResult
from reports.periods import change

from .forms import sales_filters
from .selectors import (
    DIMENSIONS,
    GroupedFigures,
    margin_grouped,
    sales_as_of,
    sales_counts_orders,
    sales_grouped,
    sales_uses_order_facts,
)

# A chart by dimension shows the largest groups; the table has them all.
CHART_GROUPS = 15


def _dimension_label(dimension: str) -> str:
    return str(dict(DIMENSIONS)[dimension])


def _link(dimension: str):
    names = {"product": "inventory:product_detail", "customer": "customers:detail"}
    if dimension not in names:
        return None
    # The totals row has no key: no link.
    return lambda row: reverse(names[dimension], args=[row["key"]]) if row.get("key") is not None else None


def _compared(groups: list[GroupedFigures], before: list[GroupedFigures] | None, dimension: str, measure) -> list:
    """Each group's figure in the comparison period: the bucket at the same place for periods, the same key otherwise."""
    if before is None:
        return [None] * len(groups)
    if dimension == "period":
        return [measure(before[i].values) if i < len(before) else None for i in range(len(groups))]
    by_key = {group.key: measure(group.values) for group in before}
    return [by_key.get(group.key, ZERO) for group in groups]


def _total(groups: list[GroupedFigures], name: str):
    return sum((group.values.get(name) or 0 for group in groups), ZERO if name in ("net", "tax", "gross", "cost") else 0)


def _ratio(part, whole) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _empty(groups: list[GroupedFigures]) -> bool:
    return not any(group.values.get("net") or group.values.get("quantity") or group.values.get("lines") for group in groups)


def _scope_note(user) -> list[str]:
    return [_("Only your own orders are counted.")] if salesperson_scope(user) is not None else []


def _chart(*, dimension: str, grain_title: str, dimension_title: str, labels, series) -> Chart:
    if dimension == "period":
        return Chart(kind="line", title=grain_title, labels=labels, series=series, money=True)
    top = slice(0, CHART_GROUPS)
    return Chart(
        kind="hbar",
        title=dimension_title,
        labels=labels[top],
        series=[(name, values[top]) for name, values in series],
        money=True,
    )


# --- Sales ---------------------------------------------------------------------------------------------


def sales_notes(dimension: str, filters, user) -> list[str]:
    notes = [
        _(
            "Sales are the orders approved in the period (by the automatic checks or a reviewer), on their approval day; "
            "cancelled and rejected orders are not sales. Units cancelled when an order was closed short, and returned "
            "units, are taken off. Net is without tax; gross includes it."
        )
    ]
    if dimension == "warehouse" or filters.warehouse_id is not None:
        notes.append(
            _(
                "A line counts for the warehouse that holds or shipped most of its units; lines not allocated yet "
                "count as not allocated."
            )
        )
    if dimension == "product":
        notes.append(_("Orders are the orders with the product."))
    elif not sales_counts_orders(dimension, filters):
        notes.append(_("Orders and the average order value are not given here: one order can span several groups."))
    return notes + _scope_note(user)


def build_sales_report(data: dict, user) -> ReportResult:
    """Revenue (net, tax, gross), orders, lines and average order value of the period, grouped as asked,
    with the comparison period beside them."""
    dimension, grain = data["dimension"], data["grain"]
    filters = sales_filters(data, user)
    groups = sales_grouped(dimension=dimension, grain=grain, start=data["start"], end=data["end"], filters=filters)
    comparison = data.get("comparison")
    before = (
        sales_grouped(dimension=dimension, grain=grain, start=comparison[0], end=comparison[1], filters=filters)
        if comparison
        else None
    )
    counts_orders = sales_counts_orders(dimension, filters)
    exact_orders = sales_uses_order_facts(dimension, filters)
    by_product = dimension == "product"
    net = _total(groups, "net")
    compared = _compared(groups, before, dimension, lambda values: values["net"])
    rows = []
    for group, earlier in zip(groups, compared, strict=True):
        values = group.values
        orders = values.get("orders")
        rows.append(
            {
                "key": group.key,
                "label": group.label,
                "orders": orders,
                "lines": values["lines"],
                "quantity": values.get("quantity"),
                "net": values["net"],
                "tax": values["tax"],
                "gross": values["gross"],
                "average": (values["net"] / orders).quantize(Decimal("0.01")) if orders else None,
                "share": _ratio(values["net"], net),
                "net_compared": earlier,
                "change": change(values["net"], earlier),
            }
        )
    columns = [Column("label", _dimension_label(dimension), link=_link(dimension))]
    if counts_orders:
        columns.append(Column("orders", _("Orders"), "int"))
    columns.append(Column("lines", _("Lines"), "int"))
    if by_product:
        columns.append(Column("quantity", _("Units"), "int"))
    columns += [
        Column("net", _("Net revenue"), "money"),
        Column("tax", _("Tax"), "money"),
        Column("gross", _("Gross revenue"), "money"),
    ]
    if counts_orders:
        columns.append(Column("average", _("Average order value"), "money"))
    columns.append(Column("share", _("Share of net revenue"), "percent"))
    if before is not None:
        columns += [
            Column("net_compared", _("Net revenue, comparison period"), "money"),
            Column("change", pgettext("against a comparison period", "Change"), "percent"),
        ]

    orders_total = _total(groups, "orders") if exact_orders else None
    totals = {
        "label": _("Total"),
        "orders": orders_total,
        "lines": _total(groups, "lines"),
        "quantity": _total(groups, "quantity") if by_product else None,
        "net": net,
        "tax": _total(groups, "tax"),
        "gross": _total(groups, "gross"),
        "average": (net / orders_total).quantize(Decimal("0.01")) if orders_total else None,
        "share": Decimal(1) if net else None,
    }
    if before is not None:
        totals["net_compared"] = _total(before, "net")
        totals["change"] = change(net, totals["net_compared"])
    figures = _sales_figures(totals, before, exact_orders)
    if _empty(groups):
        rows, charts = [], []
    else:
        series = [(_("Net revenue"), [row["net"] for row in rows])]
        if before is not None:
            series.append((_("Comparison period"), [row["net_compared"] for row in rows]))
        charts = [
            _chart(
                dimension=dimension,
                grain_title=_("Net revenue"),
                dimension_title=_("Net revenue by %(dimension)s") % {"dimension": _dimension_label(dimension)},
                labels=[row["label"] for row in rows],
                series=series,
            )
        ]
    return ReportResult(
        columns=columns,
        rows=rows,
        totals=totals if rows else None,
        charts=charts,
        figures=figures,
        as_of=sales_as_of(),
        notes=sales_notes(dimension, filters, user),
    )


def _sales_figures(totals: dict, before: list[GroupedFigures] | None, exact_orders: bool) -> list[Figure]:
    earlier_orders = _total(before, "orders") if before is not None and exact_orders else None
    earlier_net = _total(before, "net") if before is not None else None
    figures = [
        Figure(_("Net revenue"), totals["net"], "money", change(totals["net"], earlier_net)),
        Figure(_("Gross revenue"), totals["gross"], "money"),
    ]
    if exact_orders:
        earlier_average = (earlier_net / earlier_orders) if earlier_orders else None
        figures += [
            Figure(_("Orders"), totals["orders"], "int", change(totals["orders"], earlier_orders)),
            Figure(_("Average order value"), totals["average"], "money", change(totals["average"], earlier_average)),
        ]
    figures.append(Figure(_("Lines"), totals["lines"], "int"))
    return figures


# --- Margin --------------------------------------------------------------------------------------------


def margin_notes(groups: list[GroupedFigures], user) -> list[str]:
    notes = [
        _(
            "The margin counts the goods that left with the orders' own shipments, on the day they shipped: their net "
            "amount less their cost as the stock ledger recorded it when they left. Returned goods are taken off on the "
            "day they came back; replacements sent for returned or lost goods are not counted."
        )
    ]
    estimated = _total(groups, "estimated_quantity")
    if estimated:
        notes.append(
            _("%(units)s units shipped before the ledger recorded costs are costed at the product's cost of today.")
            % {"units": estimated}
        )
    return notes + _scope_note(user)


def build_margin_report(data: dict, user) -> ReportResult:
    """Net amount, cost, gross margin and margin rate of the goods shipped in the period, grouped as asked,
    with the comparison period's margin beside them."""
    dimension, grain = data["dimension"], data["grain"]
    filters = sales_filters(data, user)
    groups = margin_grouped(dimension=dimension, grain=grain, start=data["start"], end=data["end"], filters=filters)
    comparison = data.get("comparison")
    before = (
        margin_grouped(dimension=dimension, grain=grain, start=comparison[0], end=comparison[1], filters=filters)
        if comparison
        else None
    )

    def margin_of(values):
        return values["net"] - values["cost"]

    compared = _compared(groups, before, dimension, margin_of)
    rows = [
        {
            "key": group.key,
            "label": group.label,
            "quantity": group.values["quantity"],
            "net": group.values["net"],
            "cost": group.values["cost"],
            "margin": margin_of(group.values),
            "rate": _ratio(margin_of(group.values), group.values["net"]),
            "margin_compared": earlier,
            "change": change(margin_of(group.values), earlier),
        }
        for group, earlier in zip(groups, compared, strict=True)
    ]
    columns = [
        Column("label", _dimension_label(dimension), link=_link(dimension)),
        Column("quantity", _("Units"), "int"),
        Column("net", _("Net amount"), "money"),
        Column("cost", _("Cost"), "money"),
        Column("margin", _("Gross margin"), "money"),
        Column("rate", _("Margin rate"), "percent"),
    ]
    if before is not None:
        columns += [
            Column("margin_compared", _("Gross margin, comparison period"), "money"),
            Column("change", pgettext("against a comparison period", "Change"), "percent"),
        ]
    net, cost = _total(groups, "net"), _total(groups, "cost")
    totals = {
        "label": _("Total"),
        "quantity": _total(groups, "quantity"),
        "net": net,
        "cost": cost,
        "margin": net - cost,
        "rate": _ratio(net - cost, net),
    }
    earlier_margin = earlier_rate = None
    if before is not None:
        earlier_net = _total(before, "net")
        earlier_margin = earlier_net - _total(before, "cost")
        earlier_rate = _ratio(earlier_margin, earlier_net)
        totals["margin_compared"] = earlier_margin
        totals["change"] = change(net - cost, earlier_margin)
    figures = [
        Figure(_("Net amount"), net, "money"),
        Figure(_("Cost"), cost, "money"),
        Figure(_("Gross margin"), net - cost, "money", change(net - cost, earlier_margin)),
        Figure(_("Margin rate"), totals["rate"], "percent", change(totals["rate"], earlier_rate)),
    ]
    if _empty(groups):
        rows, charts = [], []
    else:
        series = [(_("Gross margin"), [row["margin"] for row in rows])]
        if before is not None:
            series.append((_("Comparison period"), [row["margin_compared"] for row in rows]))
        charts = [
            _chart(
                dimension=dimension,
                grain_title=_("Gross margin"),
                dimension_title=_("Gross margin by %(dimension)s") % {"dimension": _dimension_label(dimension)},
                labels=[row["label"] for row in rows],
                series=series,
            )
        ]
    return ReportResult(
        columns=columns,
        rows=rows,
        totals=totals if rows else None,
        charts=charts,
        figures=figures,
        as_of=sales_as_of(),
        notes=margin_notes(groups, user),
    )

"""Reads of the sales facts: the Sales and Margin reports' figures and the headlines the dashboards show.

Everything here reads the snapshot tables (reports.sales.models), never the orders; with a replica
configured the reads go there (config.database_routers). `salesperson_id` narrows every figure to one
salesperson's orders (reports.access.salesperson_scope gives it for the reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from config.money import ZERO
from customers.models import Customer
from inventory.models import Product
from orders.models import Channel
from reports.periods import bucket_label, buckets, trunc
from reports.snapshots import snapshot_as_of

from .facts import SNAPSHOT
from .models import DailyMarginLine, DailySalesLine, DailySalesOrder

# What the figures can be grouped by; "period" groups by day, week, month or year.
DIMENSIONS = [
    ("period", _("Period")),
    ("product", _("Product")),
    ("category", _("Product category")),
    ("customer", _("Customer")),
    ("segment", _("Customer segment")),
    ("channel", _("Channel")),
    ("salesperson", _("Salesperson")),
    ("warehouse", _("Warehouse")),
]
# Dimensions of the order itself: its orders are counted exactly (one row per order and day).
ORDER_DIMENSIONS = {"period", "customer", "segment", "channel", "salesperson"}


@dataclass(frozen=True)
class SalesFilters:
    """What the report is narrowed to (empty: everything the reader may see)."""

    channel: str = ""
    segment: str = ""
    category: str | None = None  # "" is "no category"; None: any
    warehouse_id: int | None = None
    salesperson_id: int | None = None

    @property
    def by_line(self) -> bool:
        """Filters only the line facts know (a product's category, a warehouse)."""
        return self.category is not None or self.warehouse_id is not None


@dataclass(frozen=True)
class SalesFigures:
    """Headline figures of a period: booked sales (by approval day) and the margin of goods shipped (by shipment day)."""

    net: Decimal
    tax: Decimal
    gross: Decimal
    orders: int
    lines: int
    shipped_net: Decimal
    cost: Decimal

    @property
    def average_order_value(self) -> Decimal | None:
        return (self.net / self.orders).quantize(Decimal("0.01")) if self.orders else None

    @property
    def margin(self) -> Decimal:
        return self.shipped_net - self.cost

    @property
    def margin_rate(self) -> Decimal | None:
        """Margin as a fraction of the shipped goods' net amount (0.25 = 25 %)."""
        return self.margin / self.shipped_net if self.shipped_net else None


def _sum(field: str):
    return Coalesce(Sum(field), ZERO)


def _count(field: str):
    return Coalesce(Sum(field), 0)


def _in_period(queryset: QuerySet, start: date, end: date, salesperson_id: int | None) -> QuerySet:
    queryset = queryset.filter(day__gte=start, day__lte=end)
    return queryset if salesperson_id is None else queryset.filter(salesperson_id=salesperson_id)


def sales_as_of() -> datetime | None:
    """When the sales facts were last brought up to date ("data as of")."""
    return snapshot_as_of(SNAPSHOT)


def sales_figures(*, start: date, end: date, salesperson_id: int | None = None) -> SalesFigures:
    """Revenue (net, tax, gross), orders and lines booked from `start` to `end` (both included), and
    the margin of what shipped in those days; one salesperson's when `salesperson_id` is given. Two queries."""
    booked = _in_period(DailySalesOrder.objects.all(), start, end, salesperson_id).aggregate(
        net=_sum("net"), tax=_sum("tax"), gross=_sum("gross"), orders=_count("orders"), lines=_count("lines")
    )
    shipped = _in_period(DailyMarginLine.objects.all(), start, end, salesperson_id).aggregate(
        shipped_net=_sum("net"), cost=_sum("cost")
    )
    return SalesFigures(**booked, **shipped)


def sales_series(*, start: date, end: date, grain: str, salesperson_id: int | None = None) -> list[tuple[date, Decimal]]:
    """Net revenue booked per bucket (day, week, month or year) of the period, empty buckets as 0 (a small chart's points)."""
    rows = (
        _in_period(DailySalesOrder.objects.all(), start, end, salesperson_id)
        .annotate(bucket=trunc("day", grain))
        .values("bucket")
        .annotate(net=_sum("net"))
    )
    found = {_as_date(row["bucket"]): row["net"] for row in rows}
    return [(key, found.get(key, ZERO)) for key in buckets(start, end, grain)]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- grouped figures for the reports' tables ----------------------------------------------------------

_GROUP_FIELDS = {
    "product": ["product_id", "product__sku", "product__name"],
    "category": ["product__category"],
    "customer": ["customer_id", "customer__name", "customer__code"],
    "segment": ["customer__segment"],
    "channel": ["channel"],
    "salesperson": ["salesperson_id", "salesperson__username", "salesperson__first_name", "salesperson__last_name"],
    "warehouse": ["warehouse_id", "warehouse__code", "warehouse__name"],
}
SEGMENT_LABELS = dict(Customer.Segment.choices)
CHANNEL_LABELS = dict(Channel.choices)


def _label(dimension: str, row: dict) -> str:
    """How a group is named in the table and on the chart, in the reader's language for choices."""
    if dimension == "product":
        return f"{row['product__sku']} {row['product__name']}"
    if dimension == "category":
        return row["product__category"] or str(_("No category"))
    if dimension == "customer":
        return f"{row['customer__name']} ({row['customer__code']})"
    if dimension == "segment":
        return str(SEGMENT_LABELS.get(row["customer__segment"], row["customer__segment"]))
    if dimension == "channel":
        return str(CHANNEL_LABELS.get(row["channel"], row["channel"]))
    if dimension == "salesperson":
        full = f"{row['salesperson__first_name']} {row['salesperson__last_name']}".strip()
        return full or row["salesperson__username"] or str(_("Unknown"))
    if dimension == "warehouse":
        if row["warehouse_id"] is None:
            return str(_("Not allocated yet"))
        return f"{row['warehouse__code']} {row['warehouse__name']}"
    raise ValueError(dimension)


def _key(dimension: str, row: dict):
    return row[_GROUP_FIELDS[dimension][0]]


def _filtered(queryset: QuerySet, filters: SalesFilters, *, start: date, end: date) -> QuerySet:
    queryset = _in_period(queryset, start, end, filters.salesperson_id)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.segment:
        queryset = queryset.filter(customer__segment=filters.segment)
    if filters.category is not None:
        queryset = queryset.filter(product__category=filters.category)
    if filters.warehouse_id is not None:
        queryset = queryset.filter(warehouse_id=filters.warehouse_id)
    return queryset


def sales_uses_order_facts(dimension: str, filters: SalesFilters) -> bool:
    """Orders are counted exactly when grouping by something of the order itself and filtering likewise."""
    return dimension in ORDER_DIMENSIONS and not filters.by_line


def sales_counts_orders(dimension: str, filters: SalesFilters) -> bool:
    """Whether the rows carry an order count: exact for the order's own dimensions; by product, the
    orders with that product. By category or warehouse none is given (one order can span several)."""
    return sales_uses_order_facts(dimension, filters) or dimension == "product"


@dataclass(frozen=True)
class GroupedFigures:
    """One row of a report's table: the group's key, its label, and its sums."""

    key: object
    label: str
    values: dict


def _grouped(
    queryset: QuerySet, dimension: str, grain: str, measures: dict, start: date, end: date, *, largest=lambda v: v["net"]
) -> list[GroupedFigures]:
    if dimension == "period":
        rows = queryset.annotate(bucket=trunc("day", grain)).values("bucket").annotate(**measures)
        found = {_as_date(row.pop("bucket")): row for row in rows}
        empty = {name: 0 for name in measures}
        return [
            GroupedFigures(key=key, label=bucket_label(key, grain), values=found.get(key, empty))
            for key in buckets(start, end, grain)
        ]
    rows = queryset.values(*_GROUP_FIELDS[dimension]).annotate(**measures).order_by()
    grouped = [
        GroupedFigures(key=_key(dimension, row), label=_label(dimension, row), values={name: row[name] for name in measures})
        for row in rows
    ]
    return sorted(grouped, key=lambda group: (-largest(group.values), group.label))


SALES_MEASURES = {
    "orders": _count("orders"),
    "lines": _count("lines"),
    "net": _sum("net"),
    "tax": _sum("tax"),
    "gross": _sum("gross"),
}


def sales_grouped(*, dimension: str, grain: str, start: date, end: date, filters: SalesFilters) -> list[GroupedFigures]:
    """Booked sales of the period grouped by `dimension` (by `grain` buckets for "period"), largest net
    first; one query. `orders` is exact for the order's own dimensions; by product it counts the orders
    with that product; by category or warehouse it is not given (one order can span several)."""
    if sales_uses_order_facts(dimension, filters):
        queryset = DailySalesOrder.objects.all()
        measures = SALES_MEASURES
    else:
        queryset = DailySalesLine.objects.all()
        measures = {**SALES_MEASURES, "quantity": _count("quantity")}
        if not sales_counts_orders(dimension, filters):
            measures = {name: value for name, value in measures.items() if name != "orders"}
    return _grouped(_filtered(queryset, filters, start=start, end=end), dimension, grain, measures, start, end)


MARGIN_MEASURES = {
    "quantity": _count("quantity"),
    "net": _sum("net"),
    "cost": _sum("cost"),
    "estimated_quantity": _count("estimated_quantity"),
}


def margin_grouped(*, dimension: str, grain: str, start: date, end: date, filters: SalesFilters) -> list[GroupedFigures]:
    """Net amount and cost of the goods shipped (less returned) in the period, grouped like sales_grouped
    (largest margin first); one query."""
    queryset = _filtered(DailyMarginLine.objects.all(), filters, start=start, end=end)
    return _grouped(queryset, dimension, grain, MARGIN_MEASURES, start, end, largest=lambda v: v["net"] - v["cost"])


def sales_categories() -> list[str]:
    """The categories products are in (the category filter's choices)."""
    return sorted(Product.objects.exclude(category="").order_by().values_list("category", flat=True).distinct())

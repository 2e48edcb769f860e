"""Reads of the sales facts: the Sales and Margin reports' figures and the headlines the dashboards show.

Everything here reads the snapshot tables (reports.sales.models), never the orders; with a replica
configured the reads go there (config.database_routers). `salesperson_id` narrows every figure to one
salesperson's orders (reports.access.salesperson_scope gives it for the reader).

Each question is answered from the smallest table that holds what it groups and filters by: the daily
totals per channel and salesperson, the monthly rollups per product or per customer (for the whole
months of the period; the days before and after them come from the facts), else the facts themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.money import ZERO
from customers.models import Customer
from inventory.models import Product, Warehouse
from orders.models import Channel
from reports.periods import bucket_label, buckets, trunc
from reports.snapshots import snapshot_as_of

from .facts import SNAPSHOT, month_of, next_month
from .models import (
    MarginByCustomer,
    MarginByProduct,
    MarginLineFact,
    MarginTotals,
    SalesByCustomer,
    SalesByProduct,
    SalesLineFact,
    SalesOrderFact,
    SalesTotals,
)

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
# Dimensions of the order itself: its orders are counted exactly.
ORDER_DIMENSIONS = {"period", "customer", "segment", "channel", "salesperson"}
LINE_DIMENSIONS = {"product", "category", "warehouse"}


@dataclass(frozen=True)
class SalesFilters:
    """What the report is narrowed to (empty: everything the reader may see)."""

    channel: str = ""
    segment: str = ""
    category: str | None = None  # None: any
    warehouse_id: int | None = None
    salesperson_id: int | None = None

    @property
    def dimensions(self) -> set[str]:
        """The dimensions these filters narrow."""
        used = {
            "channel": bool(self.channel),
            "segment": bool(self.segment),
            "category": self.category is not None,
            "warehouse": self.warehouse_id is not None,
            "salesperson": self.salesperson_id is not None,
        }
        return {name for name, on in used.items() if on}

    @property
    def by_line(self) -> bool:
        """Filters only the line facts know (a product's category, a warehouse)."""
        return bool(self.dimensions & LINE_DIMENSIONS)

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.channel:
            queryset = queryset.filter(channel=self.channel)
        if self.segment:
            queryset = queryset.filter(customer__segment=self.segment)
        if self.category is not None:
            queryset = queryset.filter(product__category=self.category)
        if self.warehouse_id is not None:
            queryset = queryset.filter(warehouse_id=self.warehouse_id)
        if self.salesperson_id is not None:
            queryset = queryset.filter(salesperson_id=self.salesperson_id)
        return queryset


def _sum(name: str):
    return Coalesce(Sum(name), ZERO)


def _count(name: str):
    return Coalesce(Sum(name), 0)


@dataclass(frozen=True)
class Source:
    """A table the figures can be read from: its date column ("day", or "month" for monthly rollups), the
    dimensions it holds, and its measures as aggregates."""

    model: type
    date_field: str
    dimensions: frozenset
    measures: dict = field(hash=False)

    def covers(self, needed: set[str]) -> bool:
        return needed <= self.dimensions


_ORDER_SUMS = {"orders": _count("orders"), "lines": _count("lines"), "net": _sum("net"), "tax": _sum("tax")}
_MARGIN_SUMS = {
    "quantity": _count("quantity"),
    "net": _sum("net"),
    "cost": _sum("cost"),
    "estimated_quantity": _count("estimated_quantity"),
}
_EVERYTHING = frozenset(name for name, _label in DIMENSIONS)
_BY_ORDER = frozenset(ORDER_DIMENSIONS)
# Smallest first: the first that holds every dimension a question needs answers it.
SALES_SOURCES = [
    Source(SalesTotals, "day", frozenset({"period", "channel", "salesperson"}), _ORDER_SUMS),
    Source(SalesByCustomer, "month", frozenset({"customer", "segment"}), _ORDER_SUMS),
    Source(
        SalesByProduct,
        "month",
        frozenset({"product", "category", "warehouse"}),
        {**_ORDER_SUMS, "quantity": _count("quantity")},
    ),
    Source(SalesOrderFact, "day", _BY_ORDER, {**_ORDER_SUMS, "orders": Count("pk"), "lines": _count("lines")}),
    Source(
        SalesLineFact,
        "day",
        _EVERYTHING,
        {"orders": Count("order_id", distinct=True), "lines": Count("pk"), "quantity": _count("quantity")}
        | {"net": _sum("net"), "tax": _sum("tax")},
    ),
]
MARGIN_SOURCES = [
    Source(MarginTotals, "day", frozenset({"period", "channel", "salesperson"}), _MARGIN_SUMS),
    Source(MarginByCustomer, "month", frozenset({"customer", "segment"}), _MARGIN_SUMS),
    Source(MarginByProduct, "month", frozenset({"product", "category", "warehouse"}), _MARGIN_SUMS),
    Source(MarginLineFact, "day", _EVERYTHING, _MARGIN_SUMS),
]


@dataclass(frozen=True)
class SalesFigures:
    """Headline figures of a period: booked sales (by approval day) and the margin of goods shipped (by shipment day)."""

    net: Decimal
    tax: Decimal
    orders: int
    lines: int
    shipped_net: Decimal
    cost: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

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


def _days(queryset: QuerySet, start: date, end: date, salesperson_id: int | None) -> QuerySet:
    queryset = queryset.filter(day__gte=start, day__lte=end)
    return queryset if salesperson_id is None else queryset.filter(salesperson_id=salesperson_id)


def sales_as_of() -> datetime | None:
    """When the sales facts were last brought up to date ("data as of")."""
    return snapshot_as_of(SNAPSHOT)


def sales_figures(*, start: date, end: date, salesperson_id: int | None = None) -> SalesFigures:
    """Revenue (net, tax, gross), orders and lines booked from `start` to `end` (both included), and
    the margin of what shipped in those days; one salesperson's when `salesperson_id` is given. Two queries."""
    booked = _days(SalesTotals.objects.all(), start, end, salesperson_id).aggregate(**_ORDER_SUMS)
    shipped = _days(MarginTotals.objects.all(), start, end, salesperson_id).aggregate(shipped_net=_sum("net"), cost=_sum("cost"))
    return SalesFigures(**booked, **shipped)


@dataclass(frozen=True)
class SalesBucket:
    """One point of a sales series: the bucket's first day, its net revenue and its orders (booked)."""

    start: date
    net: Decimal
    orders: int


def sales_series(*, start: date, end: date, grain: str = "day", salesperson_id: int | None = None) -> list[SalesBucket]:
    """Net revenue and orders booked per bucket (day, week, month or year) of the period, empty buckets
    as 0 (a small chart's points); one query."""
    rows = (
        _days(SalesTotals.objects.all(), start, end, salesperson_id)
        .annotate(bucket=trunc("day", grain))
        .values("bucket")
        .annotate(net=_sum("net"), orders=_count("orders"))
    )
    found = {_as_date(row["bucket"]): row for row in rows}
    return [
        SalesBucket(
            start=key, net=found[key]["net"] if key in found else ZERO, orders=found[key]["orders"] if key in found else 0
        )
        for key in buckets(start, end, grain)
    ]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- grouped figures for the reports' tables ----------------------------------------------------------

# The column each dimension groups by; for a key that is an id, its label is read afterwards (grouping
# by the id alone keeps the aggregate in memory; the names would make it sort on disk).
_GROUP_KEYS = {
    "product": "product_id",
    "category": "product__category",
    "customer": "customer_id",
    "segment": "customer__segment",
    "channel": "channel",
    "salesperson": "salesperson_id",
    "warehouse": "warehouse_id",
}
SEGMENT_LABELS = dict(Customer.Segment.choices)
CHANNEL_LABELS = dict(Channel.choices)


def _person(user) -> str:
    return user.get_full_name() or user.get_username() or str(_("Unknown"))


LABELS_BY_ID = 500


def _among(queryset: QuerySet, ids: list | None) -> QuerySet:
    return queryset if ids is None else queryset.filter(pk__in=ids)


def _labels(dimension: str, keys: list) -> dict:
    """How each group is named in the table and on the chart (choices in the reader's language); one
    query for the dimensions whose key is an id."""
    if dimension == "category":
        return {key: key or str(_("No category")) for key in keys}
    if dimension == "segment":
        return {key: str(SEGMENT_LABELS.get(key, key)) for key in keys}
    if dimension == "channel":
        return {key: str(CHANNEL_LABELS.get(key, key)) for key in keys}
    ids = [key for key in keys if key is not None]
    labels = {None: str(_("Not allocated yet"))}
    # Thousands of ids in an IN list cost more to send and parse than reading every name of the (small) table.
    ids = ids if len(ids) <= LABELS_BY_ID else None
    if dimension == "product":
        labels |= {
            pk: f"{sku} {name}" for pk, sku, name in _among(Product.objects.order_by(), ids).values_list("pk", "sku", "name")
        }
    elif dimension == "customer":
        rows = _among(Customer.objects.order_by(), ids).values_list("pk", "name", "code")
        labels |= {pk: f"{name} ({code})" for pk, name, code in rows}
    elif dimension == "salesperson":
        labels |= {user.pk: _person(user) for user in _among(get_user_model().objects.order_by(), ids)}
    elif dimension == "warehouse":
        labels |= {
            pk: f"{code} {name}" for pk, code, name in _among(Warehouse.objects.order_by(), ids).values_list("pk", "code", "name")
        }
    else:
        raise ValueError(dimension)
    return {key: labels.get(key, str(key)) for key in keys}


@dataclass(frozen=True)
class GroupedFigures:
    """One row of a report's table: the group's key, its label, and its sums."""

    key: object
    label: str
    values: dict


def whole_months(start: date, end: date, today: date | None = None) -> tuple[date, date] | None:
    """The first and last month lying wholly in the period (a month up to today counts as whole when
    the period reaches today: no later day has figures yet); None when there is none."""
    today = today or timezone.localdate()
    first = start if start.day == 1 else next_month(start)
    last = month_of(end)
    if next_month(last) - timedelta(days=1) > end and end < today:
        last = month_of(last - timedelta(days=1))
    return (first, last) if first <= last else None


def _plan(sources: list[Source], needed: set[str], start: date, end: date) -> list[tuple[Source, dict]]:
    """The queries answering a question: (source, date filter) pairs whose sums add up to the period."""
    chosen = next(source for source in sources if source.covers(needed))
    if chosen.date_field == "day":
        return [(chosen, {"day__gte": start, "day__lte": end})]
    detail = next(source for source in sources if source.date_field == "day" and source.covers(needed))
    months = whole_months(start, end)
    if months is None:
        return [(detail, {"day__gte": start, "day__lte": end})]
    first, last = months
    parts = [(chosen, {"month__gte": first, "month__lte": last})]
    if start < first:
        parts.append((detail, {"day__gte": start, "day__lt": first}))
    if end >= next_month(last):
        parts.append((detail, {"day__gte": next_month(last), "day__lte": end}))
    return parts


def _grouped(
    sources: list[Source],
    *,
    dimension: str,
    grain: str,
    start: date,
    end: date,
    filters: SalesFilters,
    measures: list[str],
    largest: Callable[[dict], Decimal],
) -> list[GroupedFigures]:
    needed = {dimension} | filters.dimensions
    if dimension == "period":
        (source, dates), *_rest = _plan(sources, needed, start, end)
        aggregates = {name: source.measures[name] for name in measures}
        rows = filters.apply(source.model.objects.filter(**dates)).annotate(bucket=trunc("day", grain))
        found = {_as_date(row.pop("bucket")): row for row in rows.values("bucket").annotate(**aggregates)}
        empty = dict.fromkeys(measures, 0)
        return [
            GroupedFigures(key=key, label=bucket_label(key, grain), values=found.get(key, empty))
            for key in buckets(start, end, grain)
        ]
    key_field = _GROUP_KEYS[dimension]
    merged: dict = {}
    for source, dates in _plan(sources, needed, start, end):
        aggregates = {name: source.measures[name] for name in measures}
        rows = filters.apply(source.model.objects.filter(**dates)).values(key_field).annotate(**aggregates).order_by()
        for row in rows:
            key = row.pop(key_field)
            group = merged.get(key)
            if group is None:
                merged[key] = row
            else:
                for name in measures:
                    group[name] += row[name]
    labels = _labels(dimension, list(merged))
    grouped = [GroupedFigures(key=key, label=labels[key], values=values) for key, values in merged.items()]
    return sorted(grouped, key=lambda group: (-largest(group.values), group.label))


def sales_counts_orders(dimension: str, filters: SalesFilters) -> bool:
    """Whether the rows carry an order count: exact for the order's own dimensions (without a filter
    on the lines); by product, the orders with that product. By category or warehouse none is given
    (one order can span several)."""
    return (dimension in ORDER_DIMENSIONS and not filters.by_line) or dimension == "product"


def sales_grouped(*, dimension: str, grain: str, start: date, end: date, filters: SalesFilters) -> list[GroupedFigures]:
    """Booked sales of the period grouped by `dimension` (by `grain` buckets for "period"), largest net
    first: orders (see sales_counts_orders), lines, units (by product), net and tax. One to three queries."""
    measures = ["lines", "net", "tax"]
    if sales_counts_orders(dimension, filters):
        measures.insert(0, "orders")
    if dimension == "product":
        measures.append("quantity")
    return _grouped(
        SALES_SOURCES,
        dimension=dimension,
        grain=grain,
        start=start,
        end=end,
        filters=filters,
        measures=measures,
        largest=lambda values: values["net"],
    )


def margin_grouped(*, dimension: str, grain: str, start: date, end: date, filters: SalesFilters) -> list[GroupedFigures]:
    """Net amount and cost of the goods shipped (less returned) in the period, grouped like sales_grouped
    (largest margin first). One to three queries."""
    return _grouped(
        MARGIN_SOURCES,
        dimension=dimension,
        grain=grain,
        start=start,
        end=end,
        filters=filters,
        measures=list(_MARGIN_SUMS),
        largest=lambda values: values["net"] - values["cost"],
    )


def sales_categories() -> list[str]:
    """The categories products are in (the category filter's choices)."""
    return sorted(Product.objects.exclude(category="").order_by().values_list("category", flat=True).distinct())

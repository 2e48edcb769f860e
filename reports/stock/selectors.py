"""Reads of the daily stock snapshot for the stock report and the dashboards.

A product's figures over a period come from two rows per product: its latest row on or before the
period's last day and on or before the day before the period (one index look-up each). Between
rows the levels stand still, so the running integrals of a row extend to any later day:
through(day) = row's integral before its day + its level × the days from its day to `day`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from config.money import ZERO
from inventory.counts.models import StockCountLine, StockCountState
from inventory.models import LowStockAlert, Product, StockLevel, Warehouse
from reports.periods import bucket_label, bucket_start, buckets, next_bucket
from reports.snapshots import snapshot_as_of

from .models import StockDay, StockTotalDay
from .snapshot import SNAPSHOT, local_today

ROW_FIELDS = [
    "product_id",
    "product__sku",
    "product__name",
    "day",
    "on_hand",
    "reserved",
    "value",
    "shipped",
    "shipped_value",
    "last_shipped_on",
    "cum_unit_days",
    "cum_value_days",
    "cum_out_days",
    "cum_shipped",
    "cum_shipped_value",
]


def stock_as_of():
    """When the stock snapshot was last brought up to date (None: never built)."""
    return snapshot_as_of(SNAPSHOT)


def rows_at(day: date, *, warehouse_id: int | None = None) -> dict[int, dict]:
    """Each product's latest snapshot row on or before `day`, in one warehouse or (None) all of them; by product id."""
    if warehouse_id is None:
        latest = StockDay.objects.filter(product_id=OuterRef("pk"), warehouse__isnull=True, day__lte=day)
        keys = Product.objects.all()
    else:
        latest = StockDay.objects.filter(product_id=OuterRef("product_id"), warehouse_id=warehouse_id, day__lte=day)
        keys = StockLevel.objects.filter(warehouse_id=warehouse_id)
    # One statement: the database probes the index once per key and fetches the rows by id (a list
    # of thousands of ids sent from here would cost more to build than the look-ups themselves).
    ids = keys.order_by().annotate(row=Subquery(latest.order_by("-day").values("pk")[:1])).values("row")
    return {row["product_id"]: row for row in StockDay.objects.filter(pk__in=ids).values(*ROW_FIELDS)}


@dataclass(frozen=True)
class Integrals:
    """Sums over the days up to and including one day: unit-days, value-days, days out of stock, shipped."""

    unit_days: int = 0
    value_days: Decimal = ZERO
    out_days: int = 0
    shipped: int = 0
    shipped_value: Decimal = ZERO

    def __sub__(self, other: Integrals) -> Integrals:
        return Integrals(
            self.unit_days - other.unit_days,
            self.value_days - other.value_days,
            self.out_days - other.out_days,
            self.shipped - other.shipped,
            self.shipped_value - other.shipped_value,
        )


def through(row: dict | None, day: date) -> Integrals:
    """The integrals of a key up to and including `day`, from its latest row on or before that day."""
    if row is None:
        return Integrals()
    days = (day - row["day"]).days + 1
    return Integrals(
        unit_days=row["cum_unit_days"] + row["on_hand"] * days,
        value_days=row["cum_value_days"] + row["value"] * days,
        out_days=row["cum_out_days"] + (days if row["on_hand"] <= 0 else 0),
        shipped=row["cum_shipped"] + row["shipped"],
        shipped_value=row["cum_shipped_value"] + row["shipped_value"],
    )


def _ratio(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"))


def product_figures(*, start: date, end: date, warehouse_id: int | None = None) -> list[dict]:
    """Per product over the period (days after today do not count): stock at the end, average stock,
    units and cost shipped, turnover (cost shipped / average value), days of cover (stock at the end /
    units shipped per day), days out of stock and the last shipment. Two queries."""
    end = min(end, local_today())
    days = (end - start).days + 1
    if days <= 0:
        return []
    at_end = rows_at(end, warehouse_id=warehouse_id)
    before = rows_at(start - timedelta(days=1), warehouse_id=warehouse_id)
    figures = []
    for product_id, row in at_end.items():
        period = through(row, end) - through(before.get(product_id), start - timedelta(days=1))
        average_value = (period.value_days / days).quantize(Decimal("0.01"))
        per_day = Decimal(period.shipped) / days
        figures.append(
            {
                "product_id": product_id,
                "sku": row["product__sku"],
                "name": row["product__name"],
                "on_hand": row["on_hand"],
                "reserved": row["reserved"],
                "available": row["on_hand"] - row["reserved"],
                "value": row["value"],
                "average_on_hand": _ratio(period.unit_days, days),
                "average_value": average_value,
                "shipped": period.shipped,
                "shipped_value": period.shipped_value,
                "turnover": _ratio(period.shipped_value, average_value),
                "days_of_cover": _ratio(row["on_hand"], per_day) if row["on_hand"] > 0 else Decimal("0.00"),
                "days_out": period.out_days,
                "out_now": row["on_hand"] <= 0,
                "last_shipped_on": row["last_shipped_on"],
            }
        )
    figures.sort(key=lambda f: (f["sku"], f["product_id"]))
    return figures


def slow_movers(figures: list[dict], *, cover_days: int) -> list[dict]:
    """Products still shipping, whose stock at the period's rate of shipping lasts longer than `cover_days`."""
    rows = [f for f in figures if f["on_hand"] > 0 and f["shipped"] > 0 and f["days_of_cover"] > cover_days]
    return sorted(rows, key=lambda f: (-f["days_of_cover"], f["sku"]))


def dead_stock(figures: list[dict], *, end: date, idle_days: int) -> list[dict]:
    """Products in stock with no shipment in the `idle_days` days up to `end` (never shipped included), largest value first."""
    end = min(end, local_today())
    cutoff = end - timedelta(days=idle_days - 1)
    rows = [f for f in figures if f["on_hand"] > 0 and (f["last_shipped_on"] is None or f["last_shipped_on"] < cutoff)]
    for row in rows:
        row["idle_days"] = (end - row["last_shipped_on"]).days if row["last_shipped_on"] else None
    return sorted(rows, key=lambda f: (-f["value"], f["sku"]))


def stockouts(figures: list[dict]) -> list[dict]:
    """Products out of stock on at least one day of the period, most days first."""
    return sorted((f for f in figures if f["days_out"] > 0), key=lambda f: (-f["days_out"], f["sku"]))


def default_thresholds() -> dict[str, int]:
    return {
        "dead_days": getattr(settings, "REPORTS_DEAD_STOCK_DAYS", 90),
        "cover_days": getattr(settings, "REPORTS_SLOW_MOVER_COVER_DAYS", 180),
    }


# --- per warehouse ------------------------------------------------------------------------------------


def _totals_until(end: date, *, warehouse_ids: list[int | None]) -> dict[int | None, list[dict]]:
    """The total rows of the warehouses (None: all) up to `end`, oldest first."""
    match = Q()
    for warehouse_id in warehouse_ids:
        match |= Q(warehouse__isnull=True) if warehouse_id is None else Q(warehouse_id=warehouse_id)
    series: dict[int | None, list[dict]] = {warehouse_id: [] for warehouse_id in warehouse_ids}
    for row in StockTotalDay.objects.filter(match, day__lte=end).order_by("day").values():
        series[row["warehouse_id"]].append(row)
    return series


def warehouse_levels(*, day: date) -> list[dict]:
    """Every warehouse's stock at the end of `day` (and, warehouse None, all of them together)."""
    warehouses = list(Warehouse.objects.order_by("priority", "code").values("pk", "code", "name"))
    latest = StockTotalDay.objects.filter(day__lte=day, warehouse_id=OuterRef("warehouse_id")).order_by("-day").values("pk")[:1]
    latest_all = StockTotalDay.objects.filter(day__lte=day, warehouse__isnull=True).order_by("-day").values("pk")[:1]
    rows = {
        row["warehouse_id"]: row
        for row in StockTotalDay.objects.filter(Q(pk__in=Subquery(latest_all)) | Q(pk=Subquery(latest))).values()
    }
    result = []
    for warehouse in [*warehouses, {"pk": None, "code": "", "name": ""}]:
        row = rows.get(warehouse["pk"], {})
        on_hand, reserved = row.get("on_hand", 0), row.get("reserved", 0)
        result.append(
            {
                "warehouse_id": warehouse["pk"],
                "code": warehouse["code"],
                "name": warehouse["name"],
                "on_hand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "value": row.get("value", ZERO),
                "products_stocked": row.get("products_stocked", 0),
                "products_out": row.get("products_out", 0),
            }
        )
    return result


def warehouse_series(*, start: date, end: date, grain: str, warehouse_ids: list[int | None]) -> dict:
    """Per bucket of the period, each warehouse's (None: all) stock value, units and products out of
    stock at the bucket's last day, and the units and cost shipped within it."""
    end_capped = min(end, local_today())
    keys = buckets(start, end, grain)
    series = _totals_until(end_capped, warehouse_ids=warehouse_ids)
    result = {"labels": [bucket_label(key, grain) for key in keys], "warehouses": {}}
    for warehouse_id, rows in series.items():
        points = []
        index, current = 0, None
        shipped_by_day = {row["day"]: row for row in rows if row["day"] >= start}
        for key in keys:
            last_day = min(next_bucket(key, grain) - timedelta(days=1), end)
            first_day = max(key, start)
            if last_day > end_capped:
                points.append(None)
                continue
            while index < len(rows) and rows[index]["day"] <= last_day:
                current = rows[index]
                index += 1
            in_bucket = [row for day, row in shipped_by_day.items() if first_day <= day <= last_day]
            points.append(
                {
                    "day": last_day,
                    "value": current["value"] if current else ZERO,
                    "on_hand": current["on_hand"] if current else 0,
                    "products_out": current["products_out"] if current else 0,
                    "shipped": sum(row["shipped"] for row in in_bucket),
                    "shipped_value": sum((row["shipped_value"] for row in in_bucket), ZERO),
                }
            )
        result["warehouses"][warehouse_id] = points
    return result


# --- count variances -------------------------------------------------------------------------------------


def count_variances(*, start: date, end: date, grain: str, warehouse_id: int | None = None) -> list[dict]:
    """Per bucket of the period, what posted stock counts found: lines counted, lines off, units and
    value over and short (at the cost the count was opened with). Grouped per posting day in SQL."""
    tz = timezone.get_default_timezone()
    lines = StockCountLine.objects.filter(
        count__state=StockCountState.POSTED,
        count__posted_at__gte=timezone.make_aware(datetime.combine(start, time.min), tz),
        count__posted_at__lt=timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
        adjustment_quantity__isnull=False,
    )
    if warehouse_id is not None:
        lines = lines.filter(count__warehouse_id=warehouse_id)
    value = F("adjustment_quantity") * F("unit_cost")
    per_day = (
        lines.annotate(day=TruncDate("count__posted_at", tzinfo=tz))
        .values("day")
        .annotate(
            lines=Count("pk"),
            lines_off=Count("pk", filter=~Q(adjustment_quantity=0)),
            units_over=Sum("adjustment_quantity", filter=Q(adjustment_quantity__gt=0), default=0),
            units_short=Sum("adjustment_quantity", filter=Q(adjustment_quantity__lt=0), default=0),
            value_over=Sum(value, filter=Q(adjustment_quantity__gt=0), default=ZERO),
            value_short=Sum(value, filter=Q(adjustment_quantity__lt=0), default=ZERO),
            counts=Count("count_id", distinct=True),
        )
        .order_by("day")
    )
    result = {
        key: {
            "bucket": key,
            "label": bucket_label(key, grain),
            "counts": 0,
            "lines": 0,
            "lines_off": 0,
            "units_over": 0,
            "units_short": 0,
            "value_over": ZERO,
            "value_short": ZERO,
        }
        for key in buckets(start, end, grain)
    }
    for row in per_day:
        entry = result[bucket_start(row["day"], grain)]
        for name in ("counts", "lines", "lines_off", "units_over"):
            entry[name] += row[name]
        entry["units_short"] -= row["units_short"]  # the negative adjustments' sum: short is positive
        entry["value_over"] += Decimal(row["value_over"]).quantize(Decimal("0.01"))
        entry["value_short"] -= Decimal(row["value_short"]).quantize(Decimal("0.01"))
    for entry in result.values():
        entry["net_units"] = entry["units_over"] - entry["units_short"]
        entry["net_value"] = entry["value_over"] - entry["value_short"]
    return list(result.values())


# --- the dashboards' figures ---------------------------------------------------------------------------


def stock_figures(*, day: date | None = None) -> dict:
    """For the dashboards: stock value and units at cost in every warehouse, products out of stock and
    open low-stock alerts, today (or at the end of `day`), with the snapshot's "as of"."""
    day = day or local_today()
    total = StockTotalDay.objects.filter(warehouse__isnull=True, day__lte=day).order_by("-day").values().first() or {}
    return {
        "stock_value": total.get("value", ZERO),
        "units_on_hand": total.get("on_hand", 0),
        "products_out_of_stock": total.get("products_out", 0),
        "low_stock_count": LowStockAlert.objects.filter(resolved_at__isnull=True).count(),
        "as_of": stock_as_of(),
    }

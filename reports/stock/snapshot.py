"""Building the daily stock snapshot (reports.stock.models) from the stock ledger.

- `stock_snapshot_rebuild`: every row of some products (or all) from the ledger in a few set-based
  statements (window functions over the ledger grouped by day); the reserved quantity and unit cost
  a row was written with are kept (the ledger does not hold them), new rows take the product's cost.
- `stock_snapshot_refresh`: after movements, the rows of a few products from a day on (normally
  today), from the row before that day and the ledger's movements since; cheap enough per order.
- `stock_snapshot_reconcile`: every stock row whose on hand or reserved differs from the snapshot's
  latest row is refreshed (reserved stock changes without a movement; a missed event is caught).
- The daily totals per warehouse follow from the rows' changes (closing − opening), summed per day.

All writers hold the lock of the snapshot's state row, so two refreshes never interleave.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, DecimalField, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from config.money import ZERO, round_money
from inventory.models import MovementKind, Product, StockLevel, StockMovement, Warehouse
from reports.models import SnapshotState
from reports.snapshots import snapshot_touch

from .models import StockDay, StockTotalDay

logger = logging.getLogger(__name__)

SNAPSHOT = "stock"
# A refresh of more products than this rebuilds them set-based instead of row by row.
REFRESH_ROW_BY_ROW_LIMIT = 200


def _lock() -> None:
    """Serialize the snapshot's writers on its state row (created on first use). On PostgreSQL the writer's
    statements are also not JIT-compiled: compiling takes about a second a statement, more than it saves
    on the few thousand rows a refresh or the nightly run reads."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    SnapshotState.objects.bulk_create([SnapshotState(name=SNAPSHOT)], ignore_conflicts=True)
    SnapshotState.objects.select_for_update().get(name=SNAPSHOT)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def local_today() -> date:
    """Today in the business's time zone (the snapshot's days are the ledger's local days)."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _ledger_by_day(*, product_ids: Iterable[int] | None = None, since: date | None = None):
    """The ledger summed per product, warehouse and local day: net change, units shipped, the cost of
    those shipped with their cost of the moment (StockMovement.unit_cost), and units shipped without one
    (older movements, reversals: valued at the row's unit cost)."""
    movements = StockMovement.objects.all()
    if product_ids is not None:
        movements = movements.filter(product_id__in=sorted(set(product_ids)))
    if since is not None:
        movements = movements.filter(created_at__gte=_day_start(since))
    return (
        movements.annotate(day=TruncDate("created_at", tzinfo=timezone.get_default_timezone()))
        .values("product_id", "warehouse_id", "day")
        .annotate(
            delta=Sum("quantity"),
            shipped=Sum(
                Case(When(kind=MovementKind.SHIPMENT, then=-F("quantity")), default=Value(0), output_field=IntegerField())
            ),
            shipped_cost=Sum(
                Case(
                    When(kind=MovementKind.SHIPMENT, unit_cost__isnull=False, then=-F("quantity") * F("unit_cost")),
                    default=Value(ZERO),
                    output_field=DecimalField(max_digits=20, decimal_places=2),
                )
            ),
            shipped_uncosted=Sum(
                Case(
                    When(kind=MovementKind.SHIPMENT, unit_cost__isnull=True, then=-F("quantity")),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        )
        .order_by()
    )


def _days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from `earlier` to `later` (two date columns), on either database."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


ROW_COLUMNS = [
    "product_id",
    "warehouse_id",
    "day",
    "on_hand",
    "reserved",
    "unit_cost",
    "value",
    "opening_on_hand",
    "opening_reserved",
    "opening_value",
    "shipped",
    "shipped_value",
    "last_shipped_on",
    "cum_unit_days",
    "cum_value_days",
    "cum_out_days",
    "cum_shipped",
    "cum_shipped_value",
]


def _rebuild_select(*, product_ids: list[int] | None, keep: bool = True) -> tuple[str, list]:
    """One SELECT computing every snapshot row of the products (all: None) from the ledger; with `keep`
    it reads the rows there are (their reserved and unit cost, their days without a movement)."""
    ledger_sql, ledger_params = _ledger_by_day(product_ids=product_ids).query.sql_with_params()
    snap, product = _table(StockDay), _table(Product)
    gap = _days_between("v.day", "v.prev_day")
    # Days a row was written for without a movement (reserved stock changed) stay, with what they hold.
    kept_where, kept_params = "", []
    if product_ids is not None:
        kept_where = f" WHERE product_id IN ({', '.join(['%s'] * len(product_ids))})"
        kept_params = list(product_ids)
    window = "PARTITION BY product_id, warehouse_id ORDER BY day"
    columns = "product_id, warehouse_id, day, delta, shipped, shipped_cost, shipped_uncosted"
    sums = ", ".join(f"SUM({name}) AS {name}" for name in ("delta", "shipped", "shipped_cost", "shipped_uncosted"))
    everywhere = f"SELECT product_id, NULL, day, {sums} FROM daily GROUP BY product_id, day"
    if keep:
        keyed = f"""
            SELECT product_id, warehouse_id, day, {sums} FROM (
                SELECT {columns} FROM daily
                UNION ALL
                {everywhere}
                UNION ALL
                SELECT product_id, warehouse_id, day, 0, 0, 0, 0 FROM {snap}{kept_where}
            ) changes GROUP BY product_id, warehouse_id, day"""
        cost_and_reserved = "COALESCE(o.unit_cost, p.cost) AS unit_cost, COALESCE(o.reserved, 0) AS reserved"
        kept_join = f"""LEFT JOIN {snap} o ON o.product_id = k.product_id AND o.day = k.day
             AND COALESCE(o.warehouse_id, 0) = COALESCE(k.warehouse_id, 0)"""
    else:
        # Nothing to keep: the ledger's days alone, each warehouse's already grouped.
        keyed = f"SELECT {columns} FROM daily UNION ALL {everywhere}"
        cost_and_reserved = "p.cost AS unit_cost, 0 AS reserved"
        kept_join = ""
        kept_params = []
    sql = f"""
    WITH daily AS ({ledger_sql}),
    keyed AS ({keyed}),
    levels AS (
        SELECT k.product_id, k.warehouse_id, k.day, k.shipped, k.shipped_cost, k.shipped_uncosted,
               SUM(k.delta) OVER (PARTITION BY k.product_id, k.warehouse_id ORDER BY k.day) AS on_hand,
               {cost_and_reserved}
        FROM keyed k
        JOIN {product} p ON p.id = k.product_id
        {kept_join}
    ),
    valued AS (
        SELECT l.*, ROUND(l.on_hand * l.unit_cost, 2) AS value,
               ROUND(l.shipped_cost + l.shipped_uncosted * l.unit_cost, 2) AS shipped_value,
               LAG(l.day) OVER w AS prev_day, LAG(l.on_hand) OVER w AS opening_on_hand,
               LAG(l.reserved) OVER w AS opening_reserved
        FROM levels l WINDOW w AS ({window})
    ),
    stepped AS (
        SELECT v.*, LAG(v.value) OVER w AS opening_value, COALESCE({gap}, 0) AS gap,
               MAX(CASE WHEN v.shipped > 0 THEN v.day END) OVER w AS last_shipped_on
        FROM valued v WINDOW w AS ({window})
    )
    SELECT product_id, warehouse_id, day, on_hand, reserved, unit_cost, value,
           opening_on_hand, opening_reserved, opening_value, shipped, shipped_value, last_shipped_on,
           COALESCE(SUM(CAST(opening_on_hand AS BIGINT) * gap) OVER w, 0) AS cum_unit_days,
           COALESCE(SUM(opening_value * gap) OVER w, 0) AS cum_value_days,
           COALESCE(SUM(CASE WHEN opening_on_hand <= 0 THEN gap ELSE 0 END) OVER w, 0) AS cum_out_days,
           SUM(shipped) OVER w - shipped AS cum_shipped,
           SUM(shipped_value) OVER w - shipped_value AS cum_shipped_value
    FROM stepped WINDOW w AS ({window})
    """
    return sql, [*ledger_params, *kept_params]


def _first_build_select(*, product_ids: list[int] | None) -> tuple[str, list]:
    """The rows of a first build on PostgreSQL (nothing kept: reserved 0, the product's cost): what
    _rebuild_select(keep=False) computes, in two passes over the sorted days instead of four.

    The ledger is summed per warehouse and across them in one pass (GROUPING SETS). With one unit cost per
    key, value and opening value are exact products (on hand × cost), so the value-days are cost × unit-days,
    and the unit-days telescope: Σ opening on hand × gap = on hand × day − Σ change × day (days as numbers),
    one running sum like the others. Only the days out of stock need the opening of each row first."""
    zone = timezone.get_default_timezone_name()
    ledger, product = _table(StockMovement), _table(Product)
    only, params = "", [zone]
    if product_ids is not None:
        only = f"WHERE product_id IN ({', '.join(['%s'] * len(product_ids))})"
        params += list(product_ids)
    shipment = f"kind = '{MovementKind.SHIPMENT}'"
    day_number = "(day - DATE '2000-01-01')"
    window = "WINDOW w AS (PARTITION BY product_id, warehouse_id ORDER BY day ROWS UNBOUNDED PRECEDING)"
    sql = f"""
    WITH daily AS (
        SELECT product_id, warehouse_id, CAST(created_at AT TIME ZONE %s AS date) AS day,
               CAST(SUM(quantity) AS integer) AS delta,
               CAST(SUM(CASE WHEN {shipment} THEN -quantity ELSE 0 END) AS integer) AS shipped,
               SUM(CASE WHEN {shipment} AND unit_cost IS NOT NULL THEN -quantity * unit_cost ELSE 0 END) AS shipped_cost,
               SUM(CASE WHEN {shipment} AND unit_cost IS NULL THEN -quantity ELSE 0 END) AS shipped_uncosted
        FROM {ledger} {only}
        GROUP BY GROUPING SETS ((product_id, warehouse_id, day), (product_id, day))
    ),
    valued AS (
        SELECT d.product_id, d.warehouse_id, d.day, d.delta, d.shipped, p.cost AS unit_cost,
               ROUND(d.shipped_cost + d.shipped_uncosted * p.cost, 2) AS shipped_value
        FROM daily d JOIN {product} p ON p.id = d.product_id
    ),
    running AS (
        SELECT v.*, SUM(v.delta) OVER w AS on_hand, LAG(v.day) OVER w AS prev_day,
               SUM(CAST(v.delta AS bigint) * {day_number}) OVER w AS moment,
               SUM(v.shipped) OVER w AS shipped_sum, SUM(v.shipped_value) OVER w AS shipped_value_sum,
               MAX(CASE WHEN v.shipped > 0 THEN v.day END) OVER w AS last_shipped_on
        FROM valued v {window}
    )
    SELECT product_id, warehouse_id, day, on_hand, 0, unit_cost, on_hand * unit_cost,
           CASE WHEN prev_day IS NOT NULL THEN on_hand - delta END,
           CASE WHEN prev_day IS NOT NULL THEN 0 END,
           CASE WHEN prev_day IS NOT NULL THEN (on_hand - delta) * unit_cost END,
           shipped, shipped_value, last_shipped_on,
           on_hand * {day_number} - moment,
           unit_cost * (on_hand * {day_number} - moment),
           SUM(CASE WHEN prev_day IS NOT NULL AND on_hand - delta <= 0 THEN day - prev_day ELSE 0 END) OVER w,
           shipped_sum - shipped, shipped_value_sum - shipped_value
    FROM running {window}
    """
    return sql, params


def _build_empty(cursor, *, product_ids: list[int] | None) -> int:
    """The first build into an empty table: nothing to keep, and the indexes made once after the
    rows are in (cheaper than keeping them up to date row by row)."""
    snap = _table(StockDay)
    if connection.vendor != "postgresql":  # SQLite remakes a table to drop an index, and not in a transaction
        select_sql, params = _rebuild_select(product_ids=product_ids, keep=False)
        cursor.execute(f"INSERT INTO {snap} ({', '.join(ROW_COLUMNS)}) {select_sql}", params)
        return cursor.rowcount
    select_sql, params = _first_build_select(product_ids=product_ids)
    # The ledger's days hashed and sorted in memory, the indexes built in one sort each.
    cursor.execute("SET LOCAL work_mem = '512MB'")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    meta = StockDay._meta
    with connection.schema_editor(atomic=False) as editor:
        for constraint in meta.constraints:
            editor.remove_constraint(StockDay, constraint)
        for index in meta.indexes:
            editor.remove_index(StockDay, index)
    cursor.execute(f"INSERT INTO {snap} ({', '.join(ROW_COLUMNS)}) {select_sql}", params)
    written = cursor.rowcount
    with connection.schema_editor(atomic=False) as editor:
        for constraint in meta.constraints:
            editor.add_constraint(StockDay, constraint)
        for index in meta.indexes:
            editor.add_index(StockDay, index)
    # The planner's statistics of the table just filled (without them the next statements plan for an empty one).
    cursor.execute(f"ANALYZE {snap}")
    return written


def _rebuild_rows(*, product_ids: list[int] | None) -> int:
    """Replace the rows of the products (all: None) by rows computed from the ledger; how many were written."""
    snap = _table(StockDay)
    columns = ", ".join(ROW_COLUMNS)
    select_sql, params = _rebuild_select(product_ids=product_ids)
    where, where_params = "", []
    if product_ids is not None:
        where = f" WHERE product_id IN ({', '.join(['%s'] * len(product_ids))})"
        where_params = list(product_ids)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")  # the grouping and window functions sort in memory
        if not StockDay.objects.exists():
            return _build_empty(cursor, product_ids=product_ids)
        has_rows = StockDay.objects.filter(**({"product_id__in": product_ids} if product_ids is not None else {})).exists()
        if not has_rows:
            cursor.execute(f"INSERT INTO {snap} ({columns}) {select_sql}", params)
            return cursor.rowcount
        # The new rows read the old ones (reserved, unit cost): computed aside first, then swapped in.
        cursor.execute("DROP TABLE IF EXISTS reports_stock_rebuild")
        cursor.execute(f"CREATE TEMPORARY TABLE reports_stock_rebuild AS {select_sql}", params)
        cursor.execute(f"DELETE FROM {snap}{where}", where_params)
        cursor.execute(f"INSERT INTO {snap} ({columns}) SELECT * FROM reports_stock_rebuild")
        written = cursor.rowcount
        cursor.execute("DROP TABLE reports_stock_rebuild")
        return written


def _day_changes(where: str = "") -> str:
    """SQL: the snapshot's rows (`where` some of them) summed per warehouse and day as the totals' changes that day
    (closing − opening of on hand, reserved, value and products in and out of stock) and its shipments."""
    return f"""
        SELECT warehouse_id, day,
               SUM(on_hand - COALESCE(opening_on_hand, 0)) AS d_on_hand,
               SUM(reserved - COALESCE(opening_reserved, 0)) AS d_reserved,
               SUM(value - COALESCE(opening_value, 0)) AS d_value,
               SUM(CASE WHEN on_hand > 0 THEN 1 ELSE 0 END - CASE WHEN opening_on_hand > 0 THEN 1 ELSE 0 END) AS d_stocked,
               SUM(CASE WHEN on_hand <= 0 THEN 1 ELSE 0 END - CASE WHEN opening_on_hand <= 0 THEN 1 ELSE 0 END) AS d_out,
               SUM(shipped) AS shipped, SUM(shipped_value) AS shipped_value
        FROM {_table(StockDay)} {where} GROUP BY warehouse_id, day
    """


def stock_totals_rebuild(*, from_day: date | None = None) -> None:
    """The per-warehouse totals from `from_day` on (all: None), from the rows' changes summed per day."""
    totals = _table(StockTotalDay)
    from_day = from_day or date(1, 1, 1)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {totals} WHERE day >= %s", [from_day])
        cursor.execute(
            f"""
            INSERT INTO {totals}
                (warehouse_id, day, on_hand, reserved, value, products_stocked, products_out, shipped, shipped_value)
            SELECT g.warehouse_id, g.day,
                   COALESCE(b.on_hand, 0) + SUM(g.d_on_hand) OVER w,
                   COALESCE(b.reserved, 0) + SUM(g.d_reserved) OVER w,
                   COALESCE(b.value, 0) + SUM(g.d_value) OVER w,
                   COALESCE(b.products_stocked, 0) + SUM(g.d_stocked) OVER w,
                   COALESCE(b.products_out, 0) + SUM(g.d_out) OVER w,
                   g.shipped, g.shipped_value
            FROM ({_day_changes("WHERE day >= %s")}) g
            LEFT JOIN {totals} b ON COALESCE(b.warehouse_id, 0) = COALESCE(g.warehouse_id, 0)
                AND b.day = (
                    SELECT MAX(b2.day) FROM {totals} b2
                    WHERE COALESCE(b2.warehouse_id, 0) = COALESCE(g.warehouse_id, 0) AND b2.day < %s
                )
            WINDOW w AS (PARTITION BY g.warehouse_id ORDER BY g.day)
            """,
            [from_day, from_day],
        )


@transaction.atomic
def stock_snapshot_rebuild(*, product_ids: Iterable[int] | None = None) -> int:
    """Rebuild the snapshot of some products (None: every product) from the ledger, then the totals; rows written."""
    _lock()
    ids = sorted(set(product_ids)) if product_ids is not None else None
    if ids == []:
        return 0
    first = StockDay.objects.filter(product_id__in=ids).order_by("day").values_list("day", flat=True).first() if ids else None
    written = _rebuild_rows(product_ids=ids)
    if ids is None:
        stock_totals_rebuild()
    else:
        rebuilt_first = StockDay.objects.filter(product_id__in=ids).order_by("day").values_list("day", flat=True).first()
        starts = [day for day in (first, rebuilt_first) if day is not None]
        if starts:
            stock_totals_rebuild(from_day=min(starts))
    _reconcile_locked()
    snapshot_touch(SNAPSHOT, rebuilt=ids is None)
    return written


# --- incremental refresh ------------------------------------------------------------------------


@dataclass
class _Row:
    """A snapshot row being computed (the fields of StockDay)."""

    product_id: int
    warehouse_id: int | None
    day: date
    on_hand: int = 0
    reserved: int = 0
    unit_cost: Decimal = ZERO
    value: Decimal = ZERO
    opening_on_hand: int | None = None
    opening_reserved: int | None = None
    opening_value: Decimal | None = None
    shipped: int = 0
    shipped_value: Decimal = ZERO
    last_shipped_on: date | None = None
    cum_unit_days: int = 0
    cum_value_days: Decimal = ZERO
    cum_out_days: int = 0
    cum_shipped: int = 0
    cum_shipped_value: Decimal = ZERO
    extra: dict = field(default_factory=dict)

    def model(self) -> StockDay:
        return StockDay(**{name: getattr(self, name) for name in ROW_COLUMNS})


def _next_row(
    previous: _Row | StockDay | None,
    *,
    product_id,
    warehouse_id,
    day,
    delta,
    shipped,
    reserved,
    unit_cost,
    shipped_cost=ZERO,
    shipped_uncosted=0,
) -> _Row:
    """The row of `day` following `previous` (the key's row before it, None on its first day)."""
    row = _Row(product_id=product_id, warehouse_id=warehouse_id, day=day, reserved=reserved, unit_cost=unit_cost)
    row.shipped = shipped
    row.shipped_value = round_money(Decimal(shipped_cost) + Decimal(shipped_uncosted) * unit_cost)
    if previous is None:
        row.on_hand = delta
        row.last_shipped_on = day if shipped > 0 else None
    else:
        gap = (day - previous.day).days
        row.on_hand = previous.on_hand + delta
        row.opening_on_hand = previous.on_hand
        row.opening_reserved = previous.reserved
        row.opening_value = previous.value
        row.last_shipped_on = day if shipped > 0 else previous.last_shipped_on
        row.cum_unit_days = previous.cum_unit_days + previous.on_hand * gap
        row.cum_value_days = previous.cum_value_days + previous.value * gap
        row.cum_out_days = previous.cum_out_days + (gap if previous.on_hand <= 0 else 0)
        row.cum_shipped = previous.cum_shipped + previous.shipped
        row.cum_shipped_value = previous.cum_shipped_value + previous.shipped_value
    row.value = round_money(Decimal(row.on_hand) * unit_cost)
    return row


def _previous_rows(*, keys: Iterable[tuple[int, int | None]], before: date) -> dict[tuple[int, int | None], StockDay]:
    """Each key's latest row before `before`, in two statements whatever the number of keys: an index
    look-up per product and warehouse (every warehouse, and all of them), then the rows by id."""
    product_ids = sorted({product_id for product_id, _warehouse in set(keys)})
    if not product_ids:
        return {}
    snap, product, warehouse = _table(StockDay), _table(Product), _table(Warehouse)
    marks = ", ".join(["%s"] * len(product_ids))
    latest = f"SELECT s.id FROM {snap} s WHERE s.product_id = p.id AND s.{{warehouse}} AND s.day < %s ORDER BY s.day DESC LIMIT 1"
    before_param = connection.ops.adapt_datefield_value(before)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ({latest.format(warehouse="warehouse_id = w.id")}) FROM {product} p CROSS JOIN {warehouse} w
            WHERE p.id IN ({marks})
            UNION ALL
            SELECT ({latest.format(warehouse="warehouse_id IS NULL")}) FROM {product} p WHERE p.id IN ({marks})
            """,
            [before_param, *product_ids, before_param, *product_ids],
        )
        row_ids = [row_id for (row_id,) in cursor.fetchall() if row_id is not None]
    rows = StockDay.objects.filter(pk__in=row_ids) if row_ids else []
    return {(row.product_id, row.warehouse_id): row for row in rows}


def _refresh_locked(*, product_ids: list[int], since: date, confirm: bool = True) -> list[int]:
    """Recompute the rows of the products from `since` to today; the products whose result disagrees
    with the ledger (a refresh was missed before `since`) are returned for a rebuild.

    The stock rows tell cheaply which products may be behind (their on hand differs from the result);
    only those are then summed up in the ledger, and only a disagreement with the ledger needs a rebuild.
    A product whose stock rows differ from the ledger itself (inventory's ledger check reports it) is
    not rebuilt again and again: its rows already say what the ledger says. Without `confirm` the products
    whose stock rows differ are returned unchecked (the caller checks many chunks' at once)."""
    today = local_today()
    levels = list(
        StockLevel.objects.filter(product_id__in=product_ids).values("product_id", "warehouse_id", "on_hand", "reserved")
    )
    costs = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "cost"))
    moved: dict[tuple[int, int | None], dict[date, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0, ZERO, 0]))
    for entry in _ledger_by_day(product_ids=product_ids, since=since):
        for key in ((entry["product_id"], entry["warehouse_id"]), (entry["product_id"], None)):
            sums = moved[key][entry["day"]]
            sums[0] += entry["delta"]
            sums[1] += entry["shipped"]
            sums[2] += entry["shipped_cost"]
            sums[3] += entry["shipped_uncosted"]
    existing: dict[tuple[int, int | None], dict[date, StockDay]] = defaultdict(dict)
    for row in StockDay.objects.filter(product_id__in=product_ids, day__gte=since):
        existing[(row.product_id, row.warehouse_id)][row.day] = row
    current: dict[tuple[int, int | None], list[int]] = {}
    for level in list(levels):
        current[(level["product_id"], level["warehouse_id"])] = [level["on_hand"], level["reserved"]]
        total = current.setdefault((level["product_id"], None), [0, 0])
        total[0] += level["on_hand"]
        total[1] += level["reserved"]
    keys = sorted(set(current) | set(moved) | set(existing), key=lambda key: (key[0], key[1] or 0))
    previous = _previous_rows(keys=keys, before=since)
    rows: list[_Row] = []
    stale: set[int] = set()
    for key in keys:
        product_id, warehouse_id = key
        last = previous.get(key)
        days = set(moved.get(key, {})) | set(existing.get(key, {}))
        on_hand_now, reserved_now = current.get(key, [0, 0])
        for day in sorted(days):
            delta, shipped, shipped_cost, shipped_uncosted = moved.get(key, {}).get(day, [0, 0, ZERO, 0])
            kept = existing.get(key, {}).get(day)
            if day >= today:
                reserved, unit_cost = reserved_now, costs[product_id]
            elif kept is not None:
                reserved, unit_cost = kept.reserved, kept.unit_cost
            else:
                reserved, unit_cost = (last.reserved if last else 0), costs[product_id]
            last = _next_row(
                last,
                product_id=product_id,
                warehouse_id=warehouse_id,
                day=day,
                delta=delta,
                shipped=shipped,
                reserved=reserved,
                unit_cost=unit_cost,
                shipped_cost=shipped_cost,
                shipped_uncosted=shipped_uncosted,
            )
            rows.append(last)
        # Reserved stock changed today without a movement (allocation, release): today gets a row.
        if last is not None and today not in days and last.on_hand == on_hand_now and last.reserved != reserved_now:
            last = _next_row(
                last,
                product_id=product_id,
                warehouse_id=warehouse_id,
                day=today,
                delta=0,
                shipped=0,
                reserved=reserved_now,
                unit_cost=costs[product_id],
            )
            rows.append(last)
        # A key without a stock row has nothing to compare with (its movements were loaded into the ledger
        # alone): it is taken as the ledger says.
        if key in current and (last.on_hand if last is not None else 0) != on_hand_now:
            stale.add(product_id)
    # Every product's rows are written (a rebuild of a product found behind reads the reserved and costs they
    # hold), but only those that changed: the nightly run finds most of them as they were.
    written = {(row.product_id, row.warehouse_id, row.day): row for by_day in existing.values() for row in by_day.values()}
    unchanged: set[int] = set()
    changed: list[StockDay] = []
    for row in rows:
        old = written.get((row.product_id, row.warehouse_id, row.day))
        if old is not None and all(getattr(old, name) == getattr(row, name) for name in ROW_COLUMNS):
            unchanged.add(old.pk)
        else:
            changed.append(row.model())
    gone = [row.pk for row in written.values() if row.pk not in unchanged]
    for start in range(0, len(gone), 2000):
        StockDay.objects.filter(pk__in=gone[start : start + 2000]).delete()
    StockDay.objects.bulk_create(changed, batch_size=2000)
    if not confirm or not stale:
        return sorted(stale)
    return _disagreeing_with_ledger(sorted(stale))


def _disagreeing_with_ledger(product_ids: list[int] | None) -> list[int]:
    """The products (of these, or of all: None) whose latest snapshot row in some warehouse does not hold
    what the ledger sums up to. One statement: the ledger's quantities and the latest rows' on hand
    negated (an index look-up per product and warehouse), summed per product and warehouse."""
    snap, ledger, product, warehouse = _table(StockDay), _table(StockMovement), _table(Product), _table(Warehouse)
    only_ledger = only_product = ""
    params: list = []
    if product_ids is not None:
        if not product_ids:
            return []
        marks = ", ".join(["%s"] * len(product_ids))
        only_ledger, only_product = f" WHERE product_id IN ({marks})", f" WHERE p.id IN ({marks})"
        params = [*product_ids, *product_ids]
    latest = f"SELECT s.on_hand FROM {snap} s WHERE s.product_id = p.id AND s.warehouse_id = w.id ORDER BY s.day DESC LIMIT 1"
    sql = f"""
        SELECT DISTINCT product_id FROM (
            SELECT product_id, warehouse_id, SUM(units) AS units FROM (
                SELECT product_id, warehouse_id, quantity AS units FROM {ledger}{only_ledger}
                UNION ALL
                SELECT p.id, w.id, -COALESCE(({latest}), 0) FROM {product} p CROSS JOIN {warehouse} w{only_product}
            ) units GROUP BY product_id, warehouse_id
        ) sums WHERE units <> 0 ORDER BY product_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [product_id for (product_id,) in cursor.fetchall()]


def _off_the_ledger_select(*, everywhere: bool) -> tuple[str, list]:
    """The products some row of which is not what a rebuild from the ledger would write (PostgreSQL): among the
    rows of each warehouse, or (`everywhere`) among the rows of all warehouses together.

    A rebuild computes each key's rows in day order, every row from the one before it and the ledger's
    movements of its day (with the reserved quantity and unit cost the row holds, which the ledger does not):
    so every row agrees with a rebuild exactly when each row follows from the row before it and its day's
    movements, and no day with movements lacks its row. That is checked here for every row at once, in a
    read-only statement: one pass over the ledger (summed per key and day, in parallel) and one over the
    snapshot in key order (each row beside the one before it), joined on the key and day. Nothing is
    written; only the products it returns need rebuilding."""
    snap, ledger = _table(StockDay), _table(StockMovement)
    shipment = f"kind = '{MovementKind.SHIPMENT}'"
    gap = "(r.day - r.p_day)"
    follows = f"""
        r.p_day IS NULL
            AND r.on_hand = COALESCE(m.delta, 0) AND r.opening_on_hand IS NULL AND r.opening_reserved IS NULL
            AND r.opening_value IS NULL AND r.cum_unit_days = 0 AND r.cum_value_days = 0 AND r.cum_out_days = 0
            AND r.cum_shipped = 0 AND r.cum_shipped_value = 0
            AND r.last_shipped_on IS NOT DISTINCT FROM CASE WHEN r.shipped > 0 THEN r.day END
        OR r.p_day IS NOT NULL
            AND r.on_hand = r.p_on_hand + COALESCE(m.delta, 0) AND r.opening_on_hand = r.p_on_hand
            AND r.opening_reserved = r.p_reserved AND r.opening_value = r.p_value
            AND r.cum_unit_days = r.p_cum_unit_days + CAST(r.p_on_hand AS bigint) * {gap}
            AND r.cum_value_days = r.p_cum_value_days + r.p_value * {gap}
            AND r.cum_out_days = r.p_cum_out_days + CASE WHEN r.p_on_hand <= 0 THEN {gap} ELSE 0 END
            AND r.cum_shipped = r.p_cum_shipped + r.p_shipped
            AND r.cum_shipped_value = r.p_cum_shipped_value + r.p_shipped_value
            AND r.last_shipped_on IS NOT DISTINCT FROM CASE WHEN r.shipped > 0 THEN r.day ELSE r.p_last_shipped_on END
    """
    key, rows_of = (
        ("product_id", "warehouse_id IS NULL") if everywhere else ("product_id, warehouse_id", "warehouse_id IS NOT NULL")
    )
    same_key = " AND ".join(f"m.{column} = r.{column}" for column in key.split(", "))
    # The costs summed in cents (integers: a numeric sum per group is slow to add and large to hash).
    sql = f"""
    WITH moves AS (
        SELECT {key}, CAST(created_at AT TIME ZONE %s AS date) AS day,
               SUM(quantity) AS delta,
               SUM(CASE WHEN {shipment} THEN -quantity ELSE 0 END) AS shipped,
               SUM(CASE WHEN {shipment} AND unit_cost IS NOT NULL
                        THEN -quantity * CAST(unit_cost * 100 AS bigint) ELSE 0 END) AS shipped_cents,
               SUM(CASE WHEN {shipment} AND unit_cost IS NULL THEN -quantity ELSE 0 END) AS shipped_uncosted
        FROM {ledger} GROUP BY {", ".join(str(n) for n in range(1, key.count(",") + 3))}
    ),
    rows AS (
        SELECT {key}, day, on_hand, unit_cost, value, opening_on_hand, opening_reserved, opening_value, shipped,
               shipped_value, last_shipped_on, cum_unit_days, cum_value_days, cum_out_days, cum_shipped,
               cum_shipped_value,
               LAG(day) OVER w AS p_day, LAG(on_hand) OVER w AS p_on_hand, LAG(reserved) OVER w AS p_reserved,
               LAG(value) OVER w AS p_value, LAG(shipped) OVER w AS p_shipped,
               LAG(shipped_value) OVER w AS p_shipped_value, LAG(last_shipped_on) OVER w AS p_last_shipped_on,
               LAG(cum_unit_days) OVER w AS p_cum_unit_days, LAG(cum_value_days) OVER w AS p_cum_value_days,
               LAG(cum_out_days) OVER w AS p_cum_out_days, LAG(cum_shipped) OVER w AS p_cum_shipped,
               LAG(cum_shipped_value) OVER w AS p_cum_shipped_value
        FROM {snap} WHERE {rows_of} WINDOW w AS (PARTITION BY {key} ORDER BY day)
    )
    SELECT DISTINCT COALESCE(r.product_id, m.product_id)
    FROM rows r FULL JOIN moves m ON {same_key} AND m.day = r.day
    WHERE r.product_id IS NULL
       OR NOT (
           r.value = ROUND(r.on_hand * r.unit_cost, 2)
           AND r.shipped = COALESCE(m.shipped, 0)
           AND r.shipped_value = ROUND(COALESCE(m.shipped_cents, 0) / 100.0 + COALESCE(m.shipped_uncosted, 0) * r.unit_cost, 2)
           AND ({follows})
       )
    """
    return sql, [timezone.get_default_timezone_name()]


# A snapshot of at least this many rows (the planner's estimate) has its two checks run side by side, each on a
# connection of its own in one process: at a million orders on 2 cores 15 s instead of 26 one after the other.
CONCURRENT_CHECK_ROWS = 500_000


def _check(everywhere: bool, *, parallel_workers: bool) -> set[int]:
    """One of the two checks (_off_the_ledger_select) on this thread's connection, in a transaction of its own; on
    the caller's connection in a savepoint, whose settings then last until the caller's transaction ends (the
    rebuilds after it set their own work_mem)."""
    sql, params = _off_the_ledger_select(everywhere=everywhere)
    with transaction.atomic(), connection.cursor() as cursor:
        # The snapshot's rows and the ledger's days sorted and hashed in memory, nothing JIT-compiled (as the
        # writers' statements, _lock); the ledger read by parallel workers unless the two checks run side by side.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '1GB'")
        if parallel_workers:
            cursor.execute("SET LOCAL parallel_setup_cost = 0")
            cursor.execute("SET LOCAL parallel_tuple_cost = 0.001")
        else:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        return {product_id for (product_id,) in cursor.fetchall()}


def _check_on_own_connection(everywhere: bool) -> set[int]:
    try:
        return _check(everywhere, parallel_workers=False)
    finally:
        connection.close()  # this thread's, opened for the check


def _products_off_the_ledger() -> list[int]:
    """The products some row of which is not what a rebuild from the ledger would write (_off_the_ledger_select:
    the warehouses' rows, then the rows of all warehouses together). A big snapshot is checked on two connections
    at once: each sees what is committed, which is all the check reads (it runs before the caller writes)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [StockDay._meta.db_table])
        rows = cursor.fetchone()[0]
    if max(rows, 0) < CONCURRENT_CHECK_ROWS:
        return sorted(_check(False, parallel_workers=True) | _check(True, parallel_workers=True))
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(_check_on_own_connection, (False, True)))
    return sorted(found[0] | found[1])


def _totals_off(cursor) -> bool:
    """Whether the totals table holds anything but the snapshot's rows summed per warehouse and day."""
    totals = _table(StockTotalDay)
    computed = f"""
        SELECT warehouse_id, day, SUM(d_on_hand) OVER w, SUM(d_reserved) OVER w, SUM(d_value) OVER w,
               SUM(d_stocked) OVER w, SUM(d_out) OVER w, shipped, shipped_value
        FROM ({_day_changes()}) g WINDOW w AS (PARTITION BY warehouse_id ORDER BY day)
    """
    held = f"""
        SELECT warehouse_id, day, on_hand, reserved, value, products_stocked, products_out, shipped, shipped_value
        FROM {totals}
    """
    cursor.execute(f"SELECT EXISTS (({computed}) EXCEPT ALL ({held})) OR EXISTS (({held}) EXCEPT ALL ({computed}))")
    return cursor.fetchone()[0]


def _full_check_locked(off: list[int] | None) -> dict:
    """The products found off the ledger (`off`, from _products_off_the_ledger) repaired as the nightly run repairs
    them (_repair_locked), the totals checked against the rows and rebuilt if they differ. None (elsewhere than on
    PostgreSQL): a rebuild of every row."""
    if off is None:
        written = _rebuild_rows(product_ids=None)
        stock_totals_rebuild()
        return {"rebuilt": written, "repaired": []}
    for start in range(0, len(off), NIGHTLY_CHUNK):
        _repair_locked(off[start : start + NIGHTLY_CHUNK])
    with connection.cursor() as cursor:
        if off or _totals_off(cursor):
            stock_totals_rebuild()
    return {"repaired": off}


def _repair_locked(product_ids: list[int]) -> list[int]:
    """Rebuild the products' rows from the ledger, then bring today's reserved up to date."""
    _rebuild_rows(product_ids=product_ids)
    still = _refresh_locked(product_ids=product_ids, since=local_today())
    if still:  # only if the ledger moved while this ran; the next refresh takes it
        logger.warning("stock snapshot: products %s moved during their rebuild", still)
    return still


def stock_snapshot_refresh(*, product_ids: Iterable[int], since: date | None = None) -> int:
    """Bring the rows of these products up to date from `since` (today) on, then the totals; how many products."""
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    today = local_today()
    since = min(since or today, today)
    if len(ids) > REFRESH_ROW_BY_ROW_LIMIT:
        stock_snapshot_rebuild(product_ids=ids)
        return len(ids)
    with transaction.atomic():
        _lock()
        stale = _refresh_locked(product_ids=ids, since=since)
        if stale:
            logger.info("stock snapshot: products %s disagreed with the ledger; rebuilt from it", stale)
            _repair_locked(stale)
            first = StockDay.objects.filter(product_id__in=stale).order_by("day").values_list("day", flat=True).first()
            since = min(since, first or since)
        stock_totals_rebuild(from_day=since)
        snapshot_touch(SNAPSHOT)
    return len(ids)


def _stale_product_ids() -> list[int]:
    """Products with a stock row whose on hand or reserved differs from the snapshot's latest row of it."""
    latest = StockDay.objects.filter(product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id")).order_by("-day")
    stale = (
        StockLevel.objects.annotate(
            snap_on_hand=Subquery(latest.values("on_hand")[:1]), snap_reserved=Subquery(latest.values("reserved")[:1])
        )
        .filter(
            (Q(snap_on_hand__isnull=True) & ~Q(on_hand=0))
            | (Q(snap_on_hand__isnull=False) & (~Q(on_hand=F("snap_on_hand")) | ~Q(reserved=F("snap_reserved"))))
        )
        .values_list("product_id", flat=True)
        .distinct()
    )
    return sorted(set(stale))


def _reconcile_locked() -> list[int]:
    stale = _stale_product_ids()
    for start in range(0, len(stale), REFRESH_ROW_BY_ROW_LIMIT):
        chunk = stale[start : start + REFRESH_ROW_BY_ROW_LIMIT]
        broken = _refresh_locked(product_ids=chunk, since=local_today())
        if broken:
            _repair_locked(broken)
    if stale:
        first = StockDay.objects.filter(product_id__in=stale).order_by("day").values_list("day", flat=True).first()
        stock_totals_rebuild(from_day=min(first or local_today(), local_today()))
    return stale


@transaction.atomic
def stock_snapshot_reconcile() -> list[int]:
    """Refresh every product whose stock rows differ from the snapshot's latest rows; their ids."""
    _lock()
    stale = _reconcile_locked()
    snapshot_touch(SNAPSHOT)
    return stale


# Days the nightly run derives again from the ledger: yesterday and today, and the day before for an
# event handled late.
NIGHTLY_DAYS = 3
NIGHTLY_CHUNK = 500


@transaction.atomic
def stock_snapshot_nightly(*, full: bool = False) -> dict:
    """The nightly run: the last days' rows of every product that moved derived again from the ledger,
    every product's latest rows checked against its stock rows (which inventory's nightly ledger check
    proves equal to the ledger), the products that differ checked against the ledger itself, and any
    product behind the ledger rebuilt from it in full. Past days never change in an append-only ledger,
    so this is the full rebuild's guarantee without rewriting two years of rows; an empty snapshot is
    built in full. A product whose stock rows differ from the ledger costs one sum over its movements a
    night, not a rebuild.

    In `full` every row is checked against the ledger instead (_products_off_the_ledger: what a rebuild of every
    product would write, without rewriting the rows that are right), the products off it rebuilt and the totals
    checked against the rows (_full_check_locked)."""
    if full and StockDay.objects.exists():
        # The check only reads (each statement one snapshot of the tables), so it runs before the lock: refreshes
        # go on meanwhile.
        # A product whose refresh it overtook (its movement in, its rows not yet) is rebuilt: what the refresh writes.
        off = _products_off_the_ledger() if connection.vendor == "postgresql" else None
        _lock()
        outcome = _full_check_locked(off)
        outcome["reconciled"] = _reconcile_locked()
        snapshot_touch(SNAPSHOT, rebuilt=True)
        return outcome
    _lock()
    if not StockDay.objects.exists():
        written = _rebuild_rows(product_ids=None)
        stock_totals_rebuild()
        stale = _reconcile_locked()
        snapshot_touch(SNAPSHOT, rebuilt=True)
        return {"built": written, "repaired": stale}
    since = local_today() - timedelta(days=NIGHTLY_DAYS - 1)
    moved = set(
        StockMovement.objects.filter(created_at__gte=_day_start(since)).order_by().values_list("product_id", flat=True).distinct()
    )
    moved |= set(StockDay.objects.filter(day__gte=since).order_by().values_list("product_id", flat=True).distinct())
    ordered = sorted(moved)
    differing: list[int] = []
    for start in range(0, len(ordered), NIGHTLY_CHUNK):
        differing += _refresh_locked(product_ids=ordered[start : start + NIGHTLY_CHUNK], since=since, confirm=False)
    # The products whose stock rows differ from their rows are checked against the ledger in one statement
    # (one pass over it however many there are); those behind it are rebuilt from it.
    repaired = _disagreeing_with_ledger(differing) if differing else []
    for start in range(0, len(repaired), NIGHTLY_CHUNK):
        _repair_locked(repaired[start : start + NIGHTLY_CHUNK])
    first = StockDay.objects.filter(product_id__in=repaired).order_by("day").values_list("day", flat=True).first()
    stock_totals_rebuild(from_day=min(first or since, since))
    reconciled = _reconcile_locked()
    snapshot_touch(SNAPSHOT, rebuilt=True)
    return {"refreshed": len(ordered), "repaired": repaired, "reconciled": reconciled}

"""Building the sales snapshot tables (reports.sales.models) from orders, shipments, returns and the ledger.

Everything is set-based SQL that PostgreSQL and SQLite both run (the time-zone conversion and the
month come from Django's backend operations). The nightly rebuild empties every table and fills it
with one INSERT … SELECT each: the facts straight from the business rows (no grouping: one row per
line), the rollups by grouping the facts. The refresh after an event rewrites one order's facts and
recomputes the rollup rows they lie in (its day's or month's totals, of its customer and products).

The rules of what counts (the pages state them):
- sales: order lines of *booked* orders (approved and later, not cancelled) on the approval day;
  a line counts for its kept units (ordered less cancelled less returned), priced as the line is
  (quantity × unit price × (1 − discount), tax at the line's rate, each rounded half-up to the cent);
- warehouse of a sales line: the one holding or having shipped most of its units (its reservations);
- margin: units of the order's own shipments (replacements for returned or lost goods are not sales)
  on the day they left, net amount as above, cost from the shipment's ledger movement (`unit_cost`);
  returned units (not replaced) count negative on the day the return was received, at the average
  cost of the line's shipments, against a warehouse the line shipped from.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import MovementKind, ReservationState
from logistics.returns.models import ReturnOutcome
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from reports.snapshots import snapshot_touch

from .models import (
    FACTS,
    ROLLUPS,
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

SNAPSHOT = "sales"
# Approved and every state after it; cancelled and rejected orders are not sales.
BOOKED = [
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.BACKORDERED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]
# The PostgreSQL advisory lock that makes refreshes (and the rebuild) of the sales facts run one at a time:
# two orders' refreshes may recompute the same rollup row (a product's month), and must not interleave.
_LOCK_KEY = 7_311_001


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    """The calendar day of a moment in the company's time zone (what the SQL computes too)."""
    return timezone.localtime(moment, _zone()).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _day_of(column: str) -> tuple[str, list]:
    sql, params = connection.ops.datetime_cast_date_sql(column, (), settings.TIME_ZONE)
    return sql, list(params)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _placeholders(values) -> tuple[str, list]:
    values = list(values)
    return ", ".join(["%s"] * len(values)), values


def _units_amount(quantity: str, line: str = "l") -> str:
    """The net amount of `quantity` units of order line `line`: the line's own amount when it is all of
    the line, else priced as the line is and rounded half-up to the cent. `* 1.0` and `100.0` keep SQLite
    from dividing integers."""
    return (
        f"CASE WHEN ({quantity}) = {line}.quantity THEN {line}.line_net "
        f"ELSE ROUND(({quantity}) * {line}.unit_price * (100 - {line}.discount_percent) / 100.0, 2) END"
    )


def _one_order(column: str, order_id: int | None) -> tuple[str, list]:
    return ("", []) if order_id is None else (f" AND {column} = %s", [order_id])


def _lock() -> None:
    """Refreshes and the rebuild run one at a time (SQLite serializes every write anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


# --- facts: one INSERT … SELECT each, for every order or for one ------------------------------------


def _insert_sales_lines(cursor, order_id: int | None) -> None:
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _placeholders(BOOKED)
    where, where_params = _one_order("o.id", order_id)
    # One order's reservations through its lines; every reservation for the rebuild.
    held_from = "inventory_reservation r" + (" JOIN orders_salesorderline l2 ON l2.id = r.order_line_id" if order_id else "")
    held_where, held_params = _one_order("l2.order_id", order_id)
    net = _units_amount("l.quantity - l.quantity_cancelled - l.quantity_returned")
    cursor.execute(
        f"""
        INSERT INTO {_table(SalesLineFact)}
            (line_id, order_id, day, product_id, customer_id, channel, salesperson_id, warehouse_id, quantity, net, tax)
        WITH held AS (
            SELECT r.order_line_id, r.warehouse_id,
                   ROW_NUMBER() OVER (PARTITION BY r.order_line_id ORDER BY SUM(r.quantity) DESC, r.warehouse_id) AS place
            FROM {held_from}
            WHERE r.state <> %s{held_where}
            GROUP BY r.order_line_id, r.warehouse_id
        ),
        kept AS (
            SELECT l.id AS line_id, l.order_id, {day} AS day, l.product_id, o.customer_id, o.channel,
                   o.created_by_id AS salesperson_id, h.warehouse_id, l.quantity AS ordered, l.line_tax, l.tax_rate,
                   l.quantity - l.quantity_cancelled - l.quantity_returned AS quantity, {net} AS net
            FROM orders_salesorderline l
            JOIN orders_salesorder o ON o.id = l.order_id
            LEFT JOIN held h ON h.order_line_id = l.id AND h.place = 1
            WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL
              AND l.quantity - l.quantity_cancelled - l.quantity_returned > 0{where}
        )
        SELECT line_id, order_id, day, product_id, customer_id, channel, salesperson_id, warehouse_id, quantity, net,
               CASE WHEN quantity = ordered THEN line_tax ELSE ROUND(net * tax_rate, 2) END
        FROM kept
        """,
        [ReservationState.RELEASED, *held_params, *day_params, *status_params, *where_params],
    )


def _insert_sales_orders(cursor, order_id: int | None) -> None:
    """Every booked order, with the sums of its line facts just written (so the two tables agree)."""
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _placeholders(BOOKED)
    where, where_params = _one_order("o.id", order_id)
    facts_where, facts_params = _one_order("order_id", order_id)
    cursor.execute(
        f"""
        INSERT INTO {_table(SalesOrderFact)} (order_id, day, customer_id, channel, salesperson_id, lines, net, tax)
        SELECT o.id, {day}, o.customer_id, o.channel, o.created_by_id,
               COALESCE(f.lines, 0), COALESCE(f.net, 0), COALESCE(f.tax, 0)
        FROM orders_salesorder o
        LEFT JOIN (
            SELECT order_id, COUNT(*) AS lines, SUM(net) AS net, SUM(tax) AS tax
            FROM {_table(SalesLineFact)} WHERE 1 = 1{facts_where} GROUP BY order_id
        ) f ON f.order_id = o.id
        WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL{where}
        """,
        [*day_params, *facts_params, *status_params, *where_params],
    )


def _shipped_units(where: str) -> str:
    """Units of order lines that left with the order's own shipments, each with its cost: the shipment's
    ledger movement's unit cost, or (shipped before the ledger kept costs) the product's cost today."""
    return f"""
        SELECT s.shipped_at AS moment, l.order_id, sl.order_line_id, l.product_id, o.customer_id, o.channel,
               o.created_by_id AS salesperson_id, s.warehouse_id, sl.quantity, {_units_amount("sl.quantity")} AS net,
               sl.quantity * COALESCE(m.unit_cost, p.cost) AS cost,
               CASE WHEN m.unit_cost IS NULL THEN sl.quantity ELSE 0 END AS estimated
        FROM logistics_shipmentline sl
        JOIN logistics_shipment s ON s.id = sl.shipment_id
        JOIN orders_salesorderline l ON l.id = sl.order_line_id
        JOIN orders_salesorder o ON o.id = l.order_id
        JOIN inventory_product p ON p.id = l.product_id
        LEFT JOIN inventory_stockmovement m ON m.document = s.number AND m.product_id = sl.product_id
            AND m.warehouse_id = s.warehouse_id AND m.kind = %s AND m.quantity < 0 AND m.reverses_id IS NULL
        WHERE s.shipped_at IS NOT NULL AND s.replaces_id IS NULL AND s.replacement_for_id IS NULL{where}
    """


def _insert_margin(cursor, order_id: int | None) -> None:
    shipped_day, shipped_day_params = _day_of("u.moment")
    returned_day, returned_day_params = _day_of("c.received_at")
    shipped_where, shipped_params = _one_order("s.order_id", order_id)
    returned_where, returned_params = _one_order("r.order_id", order_id)
    # The average cost of the shipments of the lines that came back (only those: returns are few).
    costed_where = " AND sl.order_line_id IN (SELECT order_line_id FROM came_back)"
    not_returned, not_returned_params = _placeholders([ReturnOutcome.REPLACE, ""])
    returned_net = _units_amount("c.quantity")
    cursor.execute(
        f"""
        INSERT INTO {_table(MarginLineFact)}
            (order_id, day, product_id, customer_id, channel, salesperson_id, warehouse_id, quantity, net, cost,
             estimated_quantity)
        WITH came_back AS (
            SELECT r.received_at, r.order_id, rl.order_line_id, rl.quantity, o.customer_id, o.channel,
                   o.created_by_id AS salesperson_id
            FROM logistics_returnline rl
            JOIN logistics_returnrequest r ON r.id = rl.return_request_id
            JOIN orders_salesorder o ON o.id = r.order_id
            WHERE r.received_at IS NOT NULL AND rl.outcome NOT IN ({not_returned}){returned_where}
        ),
        line_costs AS (
            SELECT u.order_line_id, MIN(u.warehouse_id) AS warehouse_id, SUM(u.quantity) AS quantity,
                   SUM(u.cost) AS cost, SUM(u.estimated) AS estimated
            FROM ({_shipped_units(costed_where)}) u
            GROUP BY u.order_line_id
        )
        SELECT u.order_id, {shipped_day}, u.product_id, u.customer_id, u.channel, u.salesperson_id, u.warehouse_id,
               u.quantity, u.net, u.cost, u.estimated
        FROM ({_shipped_units(shipped_where)}) u
        UNION ALL
        SELECT c.order_id, {returned_day}, l.product_id, c.customer_id, c.channel, c.salesperson_id, lc.warehouse_id,
               -c.quantity, -({returned_net}),
               -ROUND(c.quantity * COALESCE(lc.cost / (lc.quantity * 1.0), p.cost), 2),
               CASE WHEN lc.estimated IS NULL OR lc.estimated > 0 THEN -c.quantity ELSE 0 END
        FROM came_back c
        JOIN orders_salesorderline l ON l.id = c.order_line_id
        JOIN inventory_product p ON p.id = l.product_id
        LEFT JOIN line_costs lc ON lc.order_line_id = c.order_line_id
        """,
        [
            *not_returned_params,
            *returned_params,
            MovementKind.SHIPMENT,
            *shipped_day_params,
            MovementKind.SHIPMENT,
            *shipped_params,
            *returned_day_params,
        ],
    )


# --- rollups: the facts grouped by day or month and a few dimensions ---------------------------------


@dataclass(frozen=True)
class Rollup:
    """A rollup table: the `source` facts summed per day (or month) and `keys`."""

    model: type
    source: type
    period: str  # "day" or "month": the rollup's date column, and what the facts' day is truncated to
    keys: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]  # (column, SQL aggregate over the source)


_SALES_ORDER_SUMS = (("orders", "COUNT(*)"), ("lines", "SUM(lines)"), ("net", "SUM(net)"), ("tax", "SUM(tax)"))
_MARGIN_SUMS = (
    ("quantity", "SUM(quantity)"),
    ("net", "SUM(net)"),
    ("cost", "SUM(cost)"),
    ("estimated_quantity", "SUM(estimated_quantity)"),
)
SALES_TOTALS = Rollup(SalesTotals, SalesOrderFact, "day", ("channel", "salesperson_id"), _SALES_ORDER_SUMS)
SALES_BY_PRODUCT = Rollup(
    SalesByProduct,
    SalesLineFact,
    "month",
    ("product_id", "warehouse_id"),
    (("orders", "COUNT(DISTINCT order_id)"), ("lines", "COUNT(*)"), ("quantity", "SUM(quantity)"))
    + (("net", "SUM(net)"), ("tax", "SUM(tax)")),
)
SALES_BY_CUSTOMER = Rollup(SalesByCustomer, SalesOrderFact, "month", ("customer_id",), _SALES_ORDER_SUMS)
MARGIN_TOTALS = Rollup(MarginTotals, MarginLineFact, "day", ("channel", "salesperson_id"), _MARGIN_SUMS)
MARGIN_BY_PRODUCT = Rollup(MarginByProduct, MarginLineFact, "month", ("product_id", "warehouse_id"), _MARGIN_SUMS)
MARGIN_BY_CUSTOMER = Rollup(MarginByCustomer, MarginLineFact, "month", ("customer_id",), _MARGIN_SUMS)
SALES_ROLLUPS = [SALES_TOTALS, SALES_BY_PRODUCT, SALES_BY_CUSTOMER]
MARGIN_ROLLUPS = [MARGIN_TOTALS, MARGIN_BY_PRODUCT, MARGIN_BY_CUSTOMER]
assert [rollup.model for rollup in SALES_ROLLUPS + MARGIN_ROLLUPS] == ROLLUPS


def _period_sql(rollup: Rollup) -> tuple[str, list]:
    if rollup.period == "day":
        return "day", []
    sql, params = connection.ops.date_trunc_sql("month", "day", ())
    return sql, list(params)


def _rollup_where(rollup: Rollup, period: date | None, only: dict) -> tuple[str, list]:
    """The rows of one period (a day, or a month's days) whose keys are among `only` ({column: [values]})."""
    if period is None:
        return "", []
    end = period + timedelta(days=1) if rollup.period == "day" else next_month(period)
    sql, params = " AND day >= %s AND day < %s", [period, end]
    for column, values in only.items():
        placeholders, values = _placeholders(values)
        sql += f" AND {column} IN ({placeholders})"
        params += values
    return sql, params


def _insert_rollup(cursor, rollup: Rollup, period: date | None = None, only: dict | None = None) -> None:
    period_sql, period_params = _period_sql(rollup)
    where, where_params = _rollup_where(rollup, period, only or {})
    columns = [rollup.period, *rollup.keys, *(name for name, _sum in rollup.measures)]
    positions = ", ".join(str(n) for n in range(1, len(rollup.keys) + 2))
    cursor.execute(
        f"""
        INSERT INTO {_table(rollup.model)} ({", ".join(columns)})
        SELECT {period_sql}, {", ".join(rollup.keys)}, {", ".join(total for _name, total in rollup.measures)}
        FROM {_table(rollup.source)} WHERE 1 = 1{where}
        GROUP BY {positions}
        """,
        [*period_params, *where_params],
    )


def _refresh_rollup(cursor, rollup: Rollup, period: date, only: dict) -> None:
    """Recompute the rollup rows of one day or month whose keys are among `only`."""
    sql, params = f" AND {rollup.period} = %s", [period]
    for column, values in only.items():
        placeholders, values = _placeholders(values)
        sql += f" AND {column} IN ({placeholders})"
        params += values
    cursor.execute(f"DELETE FROM {_table(rollup.model)} WHERE 1 = 1{sql}", params)
    _insert_rollup(cursor, rollup, period, only)


# --- the whole tables, and one order's rows ------------------------------------------------------------


@transaction.atomic
def sales_facts_rebuild() -> None:
    """Every sales and margin fact and rollup recomputed from the orders, shipments, returns and ledger
    (nightly, safe to run twice): the tables are emptied and filled in one transaction, so readers see
    the old rows or the new ones. On PostgreSQL the indexes are dropped while the rows go in and built
    again after (much faster than keeping them up to date row by row)."""
    started = timezone.now()
    _lock()
    postgres = connection.vendor == "postgresql"
    models = [*FACTS, *ROLLUPS]
    # SQLite's schema editor cannot run inside a transaction; its tables are small enough to fill with their indexes.
    with connection.cursor() as cursor, connection.schema_editor() if postgres else nullcontext() as editor:
        if postgres:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for model in models:
            cursor.execute(f"{'TRUNCATE' if postgres else 'DELETE FROM'} {_table(model)}")
            if postgres:
                for index in model._meta.indexes:
                    editor.remove_index(model, index)
        _insert_sales_lines(cursor, None)
        _insert_sales_orders(cursor, None)
        _insert_margin(cursor, None)
        for rollup in SALES_ROLLUPS + MARGIN_ROLLUPS:
            _insert_rollup(cursor, rollup)
        if postgres:
            for model in models:
                for index in model._meta.indexes:
                    editor.add_index(model, index)
                cursor.execute(f"ANALYZE {_table(model)}")
    snapshot_touch(SNAPSHOT, rebuilt=True, at=started)


def _margin_days(order_id: int) -> set[date]:
    return set(MarginLineFact.objects.filter(order_id=order_id).order_by().values_list("day", flat=True).distinct())


@transaction.atomic
def sales_facts_refresh_order(*, order_id: int) -> None:
    """One order's facts brought up to date after an event (approval, allocation, cancellation, closing
    short, a shipment, a return), and the rollup rows they lie in recomputed. Idempotent."""
    order = SalesOrder.objects.filter(pk=order_id).values("customer_id", "channel", "created_by_id", "approved_at").first()
    if order is None:
        return
    _lock()
    products = list(SalesOrderLine.objects.filter(order_id=order_id).order_by().values_list("product_id", flat=True).distinct())
    days_before = _margin_days(order_id)
    with connection.cursor() as cursor:
        for model in FACTS:
            cursor.execute(f"DELETE FROM {_table(model)} WHERE order_id = %s", [order_id])
        _insert_sales_lines(cursor, order_id)
        _insert_sales_orders(cursor, order_id)
        _insert_margin(cursor, order_id)
        margin_days = days_before | _margin_days(order_id)
        booked = [local_day(order["approved_at"])] if order["approved_at"] is not None else []
        for rollups, days in ((SALES_ROLLUPS, booked), (MARGIN_ROLLUPS, margin_days)):
            totals, by_product, by_customer = rollups
            for day in sorted(days):
                _refresh_rollup(cursor, totals, day, {"channel": [order["channel"]], "salesperson_id": [order["created_by_id"]]})
            for month in sorted({month_of(day) for day in days}):
                if products:
                    _refresh_rollup(cursor, by_product, month, {"product_id": products})
                _refresh_rollup(cursor, by_customer, month, {"customer_id": [order["customer_id"]]})
    snapshot_touch(SNAPSHOT)


def sales_facts_refresh_orders(*, order_ids) -> None:
    """sales_facts_refresh_order for several orders."""
    for order_id in sorted(order_ids):
        sales_facts_refresh_order(order_id=order_id)

"""Building the sales snapshot tables (reports.sales.models) from orders, shipments, returns and the ledger.

Everything is set-based SQL that PostgreSQL and SQLite both run (the time-zone conversion and the
month come from Django's backend operations). The facts come straight from the business rows (no
grouping: one row per line), the rollups by grouping the facts. The nightly rebuild computes them all
afresh; on PostgreSQL into unlogged scratch tables that are compared with the live ones, so only rows
that differ are rewritten (SQLite empties the tables and fills them again). The refresh after events
rewrites some orders' facts and recomputes the rollup rows they lie in (their days' or months' totals,
of their customers and products), in a fixed number of statements however many orders.

The rules of what counts (the pages state them):
- sales: order lines of *booked* orders (approved and later, not cancelled) on the approval day;
  a line counts for its kept units (ordered less cancelled less returned), priced as the line is
  (quantity × unit price × (1 − discount), tax at the line's rate, each rounded half-up to the cent);
- warehouse of a sales line: the one holding or having shipped most of its units (its reservations);
- margin: units of the order's own shipments (replacements for returned or lost goods are not sales)
  on the day they left, net amount as above, cost from the shipment's ledger movement (its `unit_cost`, kept
  on the shipment line as it left);
  returned units (not replaced) count negative on the day the return was received, at the average
  cost of the line's shipments, against a warehouse the line shipped from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import ReservationState
from logistics.returns.models import ReturnOutcome
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from reports.patching import patch_by_key, patch_by_order, planner_settings
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


def _among(column: str, order_ids: list[int] | str | None) -> tuple[str, list]:
    """A filter on `column` to the given orders (every order when None): an array on PostgreSQL (one
    parameter however many orders), an IN list elsewhere; or a SQL subquery of their ids (the full
    recompute's scratch table of the orders it compares row by row)."""
    if order_ids is None:
        return "", []
    if isinstance(order_ids, str):
        return f" AND {column} IN {order_ids}", []
    if connection.vendor == "postgresql":
        return f" AND {column} = ANY(%s)", [list(order_ids)]
    placeholders, values = _placeholders(order_ids)
    return f" AND {column} IN ({placeholders})", values


def _lock() -> None:
    """Refreshes and the rebuild run one at a time (SQLite serializes every write anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


# --- facts: one SELECT each, for every order or for some -------------------------------------------------

SALES_LINE_COLUMNS = (
    "line_id",
    "order_id",
    "day",
    "product_id",
    "customer_id",
    "channel",
    "salesperson_id",
    "warehouse_id",
    "quantity",
    "net",
    "tax",
)
SALES_ORDER_COLUMNS = ("order_id", "day", "customer_id", "channel", "salesperson_id", "lines", "net", "tax")
MARGIN_COLUMNS = (
    "order_id",
    "day",
    "product_id",
    "customer_id",
    "channel",
    "salesperson_id",
    "warehouse_id",
    "quantity",
    "net",
    "cost",
    "estimated_quantity",
)


def _held_ranked(source: str, where: str) -> str:
    """Each order line's warehouses ranked (`place`, 1 first) by the units its reservations in `source` (alias r,
    rows `where` keeps: not released) hold or held there, the lower warehouse id first on a tie."""
    return f"""
        SELECT r.order_line_id, r.warehouse_id,
               ROW_NUMBER() OVER (PARTITION BY r.order_line_id ORDER BY SUM(r.quantity) DESC, r.warehouse_id) AS place
        FROM {source} WHERE {where}
        GROUP BY r.order_line_id, r.warehouse_id
    """


def held_warehouses(cursor) -> str:
    """PostgreSQL, for the computations of every order's facts: each order line's warehouse (place 1 of
    _held_ranked) written into an unlogged scratch table; its name. Joined to that table, the facts' statement runs
    in parallel workers (joined to the ranking's window it ran in one process, every row of it). Nearly every line's
    reservations lie in one warehouse: those lines take it from one parallel aggregation, and only the others are
    ranked. Dropped by the caller."""
    table = connection.ops.quote_name(f"{SalesLineFact._meta.db_table}_held")
    released = ReservationState.RELEASED
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # Millions of lines: grouped as the reservations' index on the line hands them over (in order, no hash table of
    # every line: 2.6 s against 4 s at a million orders).
    with planner_settings(cursor, enable_hashagg="off"):
        cursor.execute(
            f"""
            CREATE UNLOGGED TABLE {table} AS
            SELECT order_line_id, MIN(warehouse_id) AS warehouse_id, MAX(warehouse_id) AS other
            FROM inventory_reservation WHERE state <> %s GROUP BY order_line_id
            """,
            [released],
        )
    several = f"inventory_reservation r JOIN {table} m ON m.order_line_id = r.order_line_id AND m.warehouse_id <> m.other"
    cursor.execute(
        f"""
        UPDATE {table} h SET warehouse_id = ranked.warehouse_id
        FROM ({_held_ranked(several, "r.state <> %s")}) ranked
        WHERE ranked.place = 1 AND h.order_line_id = ranked.order_line_id
        """,
        [released],
    )
    cursor.execute(f"ANALYZE {table}")
    return table


def _sales_lines_select(order_ids: list[int] | str | None, held: str | None = None) -> tuple[str, list]:
    """The sales line facts (SALES_LINE_COLUMNS) of the given orders (every order when None); `held`: the scratch
    table of every line's warehouse (held_warehouses), else ranked from the reservations here."""
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _placeholders(BOOKED)
    where, where_params = _among("o.id", order_ids)
    if held is None:
        # Some orders' reservations through their lines; every reservation for the rebuild.
        held_from = "inventory_reservation r"
        if order_ids is not None:
            held_from += " JOIN orders_salesorderline l2 ON l2.id = r.order_line_id"
        held_where, held_params = _among("l2.order_id", order_ids)
        held_sql = f"({_held_ranked(held_from, f'r.state <> %s{held_where}')})"
        held_params = [ReservationState.RELEASED, *held_params]
        held_join = f"LEFT JOIN {held_sql} h ON h.order_line_id = l.id AND h.place = 1"
    else:
        held_params, held_join = [], f"LEFT JOIN {held} h ON h.order_line_id = l.id"
    net = _units_amount("l.quantity - l.quantity_cancelled - l.quantity_returned")
    sql = f"""
        WITH kept AS (
            SELECT l.id AS line_id, l.order_id, {day} AS day, l.product_id, o.customer_id, o.channel,
                   o.created_by_id AS salesperson_id, h.warehouse_id, l.quantity AS ordered, l.line_tax, l.tax_rate,
                   l.quantity - l.quantity_cancelled - l.quantity_returned AS quantity, {net} AS net
            FROM orders_salesorderline l
            JOIN orders_salesorder o ON o.id = l.order_id
            {held_join}
            WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL
              AND l.quantity - l.quantity_cancelled - l.quantity_returned > 0{where}
        )
        SELECT line_id, order_id, day, product_id, customer_id, channel, salesperson_id, warehouse_id, quantity, net,
               CASE WHEN quantity = ordered THEN line_tax ELSE ROUND(net * tax_rate, 2) END AS tax
        FROM kept
    """
    return sql, [*day_params, *held_params, *status_params, *where_params]


def _sales_orders_select(order_ids: list[int] | str | None, lines_table: str) -> tuple[str, list]:
    """Every booked order (SALES_ORDER_COLUMNS), with the sums of its line facts in `lines_table` (so the two agree)."""
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _placeholders(BOOKED)
    where, where_params = _among("o.id", order_ids)
    facts_where, facts_params = _among("order_id", order_ids)
    sql = f"""
        SELECT o.id AS order_id, {day} AS day, o.customer_id, o.channel, o.created_by_id AS salesperson_id,
               COALESCE(f.lines, 0) AS lines, COALESCE(f.net, 0) AS net, COALESCE(f.tax, 0) AS tax
        FROM orders_salesorder o
        LEFT JOIN (
            SELECT order_id, COUNT(*) AS lines, SUM(net) AS net, SUM(tax) AS tax
            FROM {lines_table} WHERE 1 = 1{facts_where} GROUP BY order_id
        ) f ON f.order_id = o.id
        WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL{where}
    """
    return sql, [*day_params, *facts_params, *status_params, *where_params]


def _shipped_units(where: str) -> str:
    """Units of order lines that left with the order's own shipments, each with its cost: the ledger's unit cost
    as they left (kept on the shipment line), or (shipped before the ledger kept costs) the product's cost today."""
    return f"""
        SELECT s.shipped_at AS moment, l.order_id, sl.order_line_id, l.product_id, o.customer_id, o.channel,
               o.created_by_id AS salesperson_id, s.warehouse_id, sl.quantity, {_units_amount("sl.quantity")} AS net,
               sl.quantity * COALESCE(sl.unit_cost, p.cost) AS cost,
               CASE WHEN sl.unit_cost IS NULL THEN sl.quantity ELSE 0 END AS estimated
        FROM logistics_shipmentline sl
        JOIN logistics_shipment s ON s.id = sl.shipment_id
        JOIN orders_salesorderline l ON l.id = sl.order_line_id
        JOIN orders_salesorder o ON o.id = l.order_id
        JOIN inventory_product p ON p.id = l.product_id
        WHERE s.shipped_at IS NOT NULL AND s.replaces_id IS NULL AND s.replacement_for_id IS NULL{where}
    """


def _margin_arms(order_ids: list[int] | str | None) -> list[tuple[str, list]]:
    """The margin facts (MARGIN_COLUMNS) of the given orders (every order when None), as two SELECTs (sql, params):
    the units shipped, and the units returned. The full recompute sums each arm's fingerprints apart: in one
    statement their union ran in one process, the shipments' millions of rows too (the returns' arm has a parallel
    part of its own, and the planner does not nest them)."""
    shipped_day, shipped_day_params = _day_of("u.moment")
    returned_day, returned_day_params = _day_of("c.received_at")
    shipped_where, shipped_params = _among("s.order_id", order_ids)
    returned_where, returned_params = _among("r.order_id", order_ids)
    not_returned, not_returned_params = _placeholders([ReturnOutcome.REPLACE, ""])
    came_back = f"""
        SELECT r.received_at, r.order_id, rl.order_line_id, rl.quantity, o.customer_id, o.channel,
               o.created_by_id AS salesperson_id
        FROM logistics_returnline rl
        JOIN logistics_returnrequest r ON r.id = rl.return_request_id
        JOIN orders_salesorder o ON o.id = r.order_id
        WHERE r.received_at IS NOT NULL AND rl.outcome NOT IN ({not_returned}){returned_where}
    """
    came_back_params = [*not_returned_params, *returned_params]
    # The average cost of the shipments of the lines that came back (only those: returns are few).
    costed_where = f" AND sl.order_line_id IN (SELECT order_line_id FROM ({came_back}) came_back)"
    line_costs = f"""
        SELECT u.order_line_id, MIN(u.warehouse_id) AS warehouse_id, SUM(u.quantity) AS quantity,
               SUM(u.cost) AS cost, SUM(u.estimated) AS estimated
        FROM ({_shipped_units(costed_where)}) u
        GROUP BY u.order_line_id
    """
    returned_net = _units_amount("c.quantity")
    shipped_arm = f"""
        SELECT u.order_id, {shipped_day} AS day, u.product_id, u.customer_id, u.channel, u.salesperson_id, u.warehouse_id,
               u.quantity, u.net, u.cost, u.estimated AS estimated_quantity
        FROM ({_shipped_units(shipped_where)}) u
    """
    returned_arm = f"""
        SELECT c.order_id, {returned_day}, l.product_id, c.customer_id, c.channel, c.salesperson_id, lc.warehouse_id,
               -c.quantity, -({returned_net}),
               -ROUND(c.quantity * COALESCE(lc.cost / (lc.quantity * 1.0), p.cost), 2),
               CASE WHEN lc.estimated IS NULL OR lc.estimated > 0 THEN -c.quantity ELSE 0 END
        FROM ({came_back}) c
        JOIN orders_salesorderline l ON l.id = c.order_line_id
        JOIN inventory_product p ON p.id = l.product_id
        LEFT JOIN ({line_costs}) lc ON lc.order_line_id = c.order_line_id
    """
    return [
        (shipped_arm, [*shipped_day_params, *shipped_params]),
        (returned_arm, [*returned_day_params, *came_back_params, *came_back_params]),
    ]


def _margin_select(order_ids: list[int] | str | None) -> tuple[str, list]:
    """The margin facts (MARGIN_COLUMNS) of the given orders (every order when None): its arms' UNION ALL."""
    arms = _margin_arms(order_ids)
    return " UNION ALL ".join(sql for sql, _params in arms), [param for _sql, params in arms for param in params]


def _insert(cursor, model, columns: tuple[str, ...], select: tuple[str, list]) -> None:
    sql, params = select
    cursor.execute(f"INSERT INTO {_table(model)} ({', '.join(columns)}) {sql}", params)


def _insert_facts(cursor, order_ids: list[int] | None) -> None:
    """The facts of the given orders (every order when None) written into the fact tables."""
    _insert(cursor, SalesLineFact, SALES_LINE_COLUMNS, _sales_lines_select(order_ids))
    _insert(cursor, SalesOrderFact, SALES_ORDER_COLUMNS, _sales_orders_select(order_ids, _table(SalesLineFact)))
    _insert(cursor, MarginLineFact, MARGIN_COLUMNS, _margin_select(order_ids))


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
    if connection.vendor == "postgresql":
        # The same first of the month as DATE_TRUNC of the date, without its trip through a time zone (millions of rows).
        return "DATE_TRUNC('month', day::timestamp)::date", []
    sql, params = connection.ops.date_trunc_sql("month", "day", ())
    return sql, list(params)


def _keys_where(rollup: Rollup, keys: set[tuple], *, in_source: bool) -> tuple[str, list]:
    """Rows of the given keys (tuples of the period and the rollup's first keys) as an OR of ANDs that the
    tables' (key, day) indexes answer: in the rollup itself, or in its source facts (a range of days per period)."""
    arms, params = [], []
    for key in sorted(keys, key=str):
        period, *values = key
        if in_source:
            end = period + timedelta(days=1) if rollup.period == "day" else next_month(period)
            conditions, arm_params = ["day >= %s", "day < %s"], [period, end]
        else:
            conditions, arm_params = [f"{rollup.period} = %s"], [period]
        conditions += [f"{column} = %s" for column in rollup.keys[: len(values)]]
        arms.append("(" + " AND ".join(conditions) + ")")
        params += arm_params + values
    return "(" + " OR ".join(arms) + ")", params


def _rollup_select(rollup: Rollup, source: str, keys: set[tuple] | None = None) -> tuple[str, list]:
    """The rows of `rollup` summed from the facts in table `source`: all of them, or those of the given keys."""
    period_sql, period_params = _period_sql(rollup)
    where, where_params = ("", []) if keys is None else _keys_where(rollup, keys, in_source=True)
    positions = ", ".join(str(n) for n in range(1, len(rollup.keys) + 2))
    sql = f"""
        SELECT {period_sql} AS {rollup.period}, {", ".join(rollup.keys)},
               {", ".join(f"{total} AS {name}" for name, total in rollup.measures)}
        FROM {source} WHERE {where or "1 = 1"}
        GROUP BY {positions}
    """
    return sql, [*period_params, *where_params]


def _rollup_columns(rollup: Rollup) -> tuple[str, ...]:
    return (rollup.period, *rollup.keys, *(name for name, _sum in rollup.measures))


def _keys_table(rollup: Rollup, keys: set[tuple]) -> tuple[str, list, list[str]]:
    """PostgreSQL: the keys (tuples of the period and the rollup's first keys) as a relation `k` of arrays
    unnested (period, period_end, key columns): one parameter per column however many keys; and the key columns."""
    width = len(next(iter(keys))) - 1
    columns = list(rollup.keys[:width])
    fields = {field.column: field for field in rollup.model._meta.concrete_fields}
    ordered = sorted(keys, key=str)
    ends = [key[0] + timedelta(days=1) if rollup.period == "day" else next_month(key[0]) for key in ordered]
    arrays = [[key[0] for key in ordered], ends] + [[key[1 + n] for key in ordered] for n in range(width)]
    types = ["date", "date"] + [fields[column].db_type(connection) for column in columns]
    unnested = ", ".join(f"%s::{kind}[]" for kind in types)
    names = ", ".join(["period", "period_end", *columns])
    return f"unnest({unnested}) AS k({names})", arrays, columns


def _refresh_rollup(cursor, rollup: Rollup, keys: set[tuple]) -> None:
    """Recompute the rollup rows of the given keys: two statements however many."""
    if not keys:
        return
    if connection.vendor == "postgresql":
        # Thousands of keys (a night's orders): joined to an unnested array each (an OR of thousands of
        # arms is tested on every row it reads).
        relation, params, columns = _keys_table(rollup, keys)
        same = " AND ".join(f"t.{column} = k.{column}" for column in columns)
        cursor.execute(
            f"DELETE FROM {_table(rollup.model)} t USING {relation} WHERE t.{rollup.period} = k.period AND {same}", params
        )
        period_sql, period_params = _period_sql(rollup)
        in_source = " AND ".join(f"s.{column} = k.{column}" for column in columns)
        positions = ", ".join(str(n) for n in range(1, len(rollup.keys) + 2))
        totals = ", ".join(f"{total} AS {name}" for name, total in rollup.measures)
        select = f"""
            SELECT {period_sql} AS {rollup.period}, {", ".join(rollup.keys)}, {totals}
            FROM (SELECT s.* FROM {_table(rollup.source)} s JOIN {relation}
                  ON s.day >= k.period AND s.day < k.period_end AND {in_source}) s
            GROUP BY {positions}
        """
        _insert(cursor, rollup.model, _rollup_columns(rollup), (select, [*period_params, *params]))
        return
    where, params = _keys_where(rollup, keys, in_source=False)
    cursor.execute(f"DELETE FROM {_table(rollup.model)} WHERE {where}", params)
    _insert(cursor, rollup.model, _rollup_columns(rollup), _rollup_select(rollup, _table(rollup.source), keys))


# --- the nightly rebuild -----------------------------------------------------------------------------------
# On PostgreSQL each table is computed afresh and compared with the live one in as few passes over the millions of
# rows as can be. A fact table (its rows are orders') is first compared by fingerprints per bucket of orders (the count
# and hash sum of its rows, reports.patching): one parallel aggregation of the computation and one of the live table,
# no join of their rows. Only the orders of the buckets that differ are compared row by row: a fact table with a key
# (a line's; an order's, compared whole) in one statement that joins their fresh computation to their live rows and
# keeps only the rows that differ, the margin facts (no key) as multisets order by order. The rollups (small) are
# computed into an unlogged scratch copy (no WAL, no index to keep up) and compared with the live table. Only rows
# that differ are deleted and inserted: most nights almost nothing differs (the events kept the facts up to date), so
# the live tables (and their indexes) barely change and readers are never locked out. The orders' facts and the
# rollups are computed from the live facts once those are patched (they equal the fresh ones then), so no fact is
# computed twice. An empty table (the first build) is filled straight from its computation, its indexes built after
# the rows. SQLite empties the tables and fills them again.


@dataclass(frozen=True)
class Scratch:
    """How a fact or rollup table is brought to equal a fresh computation: by `keys` (a row per key), or, for the
    margin facts (no key: one order line can ship twice alike), order by order."""

    model: type
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()
    # The computation of every order's rows as SELECTs whose rows together are it, fingerprinted apart (None: one).
    arms: Callable[[None], list[tuple[str, list]]] | None = None
    # Compared by fingerprints first (a fact table); the orders' facts are not: summing their lines' facts per order
    # for the fingerprints took as long as their one join with the live rows.
    fingerprinted: bool = True

    @property
    def live(self) -> str:
        return _table(self.model)

    @property
    def fresh(self) -> str:
        return connection.ops.quote_name(f"{self.model._meta.db_table}_fresh")

    @property
    def changed(self) -> str:
        return connection.ops.quote_name(f"{self.model._meta.db_table}_changed")

    def _typed(self, select: tuple[str, list]) -> tuple[str, list]:
        """The computation with the live table's column types (so values compare and hash alike)."""
        fields = {field.column: field for field in self.model._meta.concrete_fields}
        casts = ", ".join(f"CAST({column} AS {fields[column].db_type(connection)}) AS {column}" for column in self.columns)
        sql, params = select
        return f"SELECT {casts} FROM ({sql}) fresh", params

    def create(self, cursor, select: tuple[str, list]) -> None:
        """The fresh copy, an unlogged table."""
        sql, params = self._typed(select)
        cursor.execute(f"DROP TABLE IF EXISTS {self.fresh}")
        cursor.execute(f"CREATE UNLOGGED TABLE {self.fresh} AS {sql}", params)

    def _is_empty(self, cursor) -> bool:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {self.live})")
        return cursor.fetchone()[0]

    def _nullable(self, column: str) -> bool:
        return any(field.column == column and field.null for field in self.model._meta.concrete_fields)

    def _same_key(self, left: str, right: str) -> str:
        return " AND ".join(
            f"{left}.{key} IS NOT DISTINCT FROM {right}.{key}" if self._nullable(key) else f"{left}.{key} = {right}.{key}"
            for key in self.keys
        )

    def rebuild(self, cursor, select: Callable[[str | None], tuple[str, list]]) -> int:
        """Make the live table equal its computation, `select(None)` (every row computed afresh), touching only
        the rows that differ; how many rows were written or deleted. A fact table (its rows are orders') is first
        compared by fingerprints per bucket of orders (reports.patching), and only the orders of the buckets that
        differ are compared row by row (`select(only)`: their rows, `only` a SQL subquery of their ids). Its
        statistics are refreshed when much changed (the next statements read it)."""
        if self._is_empty(cursor) and self.keys[1:]:
            changed = self._fill(cursor, select(None))  # a rollup (small): straight in
        elif self._is_empty(cursor):
            # A fact table (big): computed by parallel workers into its scratch copy (an INSERT's SELECT runs in
            # one process only: twice as long), then copied in.
            self.create(cursor, select(None))
            changed = self._fill(cursor, (f"SELECT * FROM {self.fresh}", []))
            cursor.execute(f"DROP TABLE {self.fresh}")
        elif "order_id" in self.columns:
            changed = self._patch_orders_rows(cursor, select)
        else:
            self.create(cursor, select(None))
            changed = self._patch_from_fresh(cursor)
            cursor.execute(f"DROP TABLE {self.fresh}")
        if changed > 1000:
            cursor.execute(f"ANALYZE {self.live}")
        return changed

    def _patch_orders_rows(self, cursor, select: Callable[[str | None], tuple[str, list]]) -> int:
        """A fact table (rows of orders) patched by reports.patching: by its key, or order by order (the margin facts:
        one order line can ship twice alike). Its statements' parameters are the same whichever orders they read."""
        sql, params = select(None)

        def computed(only: str) -> str | list[str]:
            if not only and self.arms:
                return [arm for arm, _params in self.arms(None)]
            return self._typed(select(only or None))[0]  # in the table's types: compared row by row

        if not self.keys:
            return patch_by_order(cursor, model=self.model, columns=self.columns, select=computed, params=params)
        return patch_by_key(
            cursor,
            model=self.model,
            columns=self.columns,
            keys=self.keys,
            select=computed if self.fingerprinted else self._typed((sql, params))[0],
            params=params,
        )

    def _patch_from_fresh(self, cursor) -> int:
        """A rollup (small) made equal to its fresh copy, touching only the rows that differ; how many changed: live
        rows without an equal fresh row go, fresh rows without an equal live row come in (set aside first: a
        statement that reads the table it inserts into scans its new rows too)."""
        columns = ", ".join(self.columns)
        changed_keys = self.changed
        cursor.execute(f"DROP TABLE IF EXISTS {changed_keys}")
        values = [column for column in self.columns if column not in self.keys]
        same_values = f"({', '.join(f'f.{c}' for c in values)}) IS NOT DISTINCT FROM ({', '.join(f'l.{c}' for c in values)})"
        same = f"{self._same_key('f', 'l')} AND {same_values}"
        cursor.execute(
            f"CREATE UNLOGGED TABLE {changed_keys} AS SELECT {columns} FROM {self.fresh} f "
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.live} l WHERE {same})"
        )
        cursor.execute(f"DELETE FROM {self.live} l WHERE NOT EXISTS (SELECT 1 FROM {self.fresh} f WHERE {same})")
        changed = cursor.rowcount
        cursor.execute(f"INSERT INTO {self.live} ({columns}) SELECT {columns} FROM {changed_keys}")
        changed += cursor.rowcount
        cursor.execute(f"DROP TABLE {changed_keys}")
        return changed

    def _fill(self, cursor, select: tuple[str, list]) -> int:
        """An empty live table (the first build) filled straight from its computation, its indexes built after the rows."""
        columns = ", ".join(self.columns)
        sql, params = select
        cursor.execute(
            "SELECT c.conname, a.attname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.conrelid = %s::regclass AND c.contype = 'p'",
            [self.model._meta.db_table],
        )
        primary_key, pk_column = cursor.fetchone()
        with connection.schema_editor(atomic=False) as editor:
            for index in self.model._meta.indexes:
                editor.remove_index(self.model, index)
            cursor.execute(f"ALTER TABLE {self.live} DROP CONSTRAINT {connection.ops.quote_name(primary_key)}")
            cursor.execute(f"INSERT INTO {self.live} ({columns}) SELECT {columns} FROM ({sql}) fresh", params)
            filled = cursor.rowcount
            cursor.execute(
                f"ALTER TABLE {self.live} ADD CONSTRAINT {connection.ops.quote_name(primary_key)} "
                f"PRIMARY KEY ({connection.ops.quote_name(pk_column)})"
            )
            for index in self.model._meta.indexes:
                editor.add_index(self.model, index)
        return filled


def _rebuild_by_patching(cursor) -> None:
    """PostgreSQL: every fact and rollup computed afresh, and the live tables patched where they differ."""
    # Hash tables of a million orders' sums (the orders' facts, the rollups) in memory rather than spilled in
    # batches, and the index builds of a first build sorted in memory.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL hash_mem_multiplier = 3")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    # Every statement reads millions of rows: parallel workers (the planner's default costs seldom choose them
    # for a statement that writes a table; they halve the facts' computation) and no JIT compilation (it took
    # longer than it saved).
    cursor.execute("SET LOCAL parallel_setup_cost = 0")
    cursor.execute("SET LOCAL parallel_tuple_cost = 0.001")
    cursor.execute("SET LOCAL jit = off")
    lines = Scratch(SalesLineFact, SALES_LINE_COLUMNS, ("line_id",))
    held = held_warehouses(cursor)
    lines.rebuild(cursor, lambda only: _sales_lines_select(only, held))
    cursor.execute(f"DROP TABLE {held}")
    # The orders' sums of their line facts: the live ones, equal to the fresh ones now.
    Scratch(SalesOrderFact, SALES_ORDER_COLUMNS, ("order_id",), fingerprinted=False).rebuild(
        cursor, lambda only: _sales_orders_select(only, lines.live)
    )
    Scratch(MarginLineFact, MARGIN_COLUMNS, arms=_margin_arms).rebuild(cursor, _margin_select)
    for rollup in SALES_ROLLUPS + MARGIN_ROLLUPS:
        Scratch(rollup.model, _rollup_columns(rollup), (rollup.period, *rollup.keys)).rebuild(
            cursor, lambda _only, rollup=rollup: _rollup_select(rollup, _table(rollup.source))
        )


def _rebuild_by_refilling(cursor) -> None:
    """SQLite: every table emptied and filled again (small databases)."""
    for model in [*FACTS, *ROLLUPS]:
        cursor.execute(f"DELETE FROM {_table(model)}")
    _insert_facts(cursor, None)
    for rollup in SALES_ROLLUPS + MARGIN_ROLLUPS:
        _insert(cursor, rollup.model, _rollup_columns(rollup), _rollup_select(rollup, _table(rollup.source)))


@transaction.atomic
def sales_facts_rebuild(*, now: datetime | None = None) -> None:
    """Every sales and margin fact and rollup recomputed from the orders, shipments, returns and ledger
    (safe to run twice), in one transaction: readers see the old rows or the new ones. On PostgreSQL only
    the rows that differ from the fresh computation are rewritten. The nightly run (reports.sales.nightly)
    runs it for the first build, on Sundays, and when asked for in full; `now`: the time it is recorded as
    up to (when it started)."""
    started = now or timezone.now()
    _lock()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _rebuild_by_patching(cursor)
        else:
            _rebuild_by_refilling(cursor)
    snapshot_touch(SNAPSHOT, rebuilt=True, at=started)


# --- refreshing some orders' rows after events ---------------------------------------------------------------


def _order_days(order_ids: list[int]) -> dict[int, set[date]]:
    days: dict[int, set[date]] = {}
    rows = MarginLineFact.objects.filter(order_id__in=order_ids).order_by().values_list("order_id", "day").distinct()
    for order_id, day in rows:
        days.setdefault(order_id, set()).add(day)
    return days


@transaction.atomic
def sales_facts_refresh_orders(*, order_ids) -> None:
    """Some orders' facts brought up to date after events (approval, allocation, cancellation, closing short,
    a shipment, a return), and the rollup rows they lie in recomputed; a fixed number of statements however
    many orders. Idempotent."""
    order_ids = sorted(set(order_ids))
    if not order_ids:
        return
    found = SalesOrder.objects.filter(pk__in=order_ids).values("pk", "customer_id", "channel", "created_by_id", "approved_at")
    orders = {row["pk"]: row for row in found}
    if not orders:
        return
    order_ids = sorted(orders)
    _lock()
    products: dict[int, set[int]] = {}
    for order_id, product_id in (
        SalesOrderLine.objects.filter(order_id__in=order_ids).order_by().values_list("order_id", "product_id").distinct()
    ):
        products.setdefault(order_id, set()).add(product_id)
    days_before = _order_days(order_ids)
    with connection.cursor() as cursor:
        for model in FACTS:
            where, params = _among("order_id", order_ids)
            cursor.execute(f"DELETE FROM {_table(model)} WHERE 1 = 1{where}", params)
        _insert_facts(cursor, order_ids)
        days_after = _order_days(order_ids)
        booked = {order_id: {local_day(order["approved_at"])} for order_id, order in orders.items() if order["approved_at"]}
        margin = {order_id: days_before.get(order_id, set()) | days_after.get(order_id, set()) for order_id in order_ids}
        for rollups, days in ((SALES_ROLLUPS, booked), (MARGIN_ROLLUPS, margin)):
            totals, by_product, by_customer = rollups
            totals_keys, product_keys, customer_keys = set(), set(), set()
            for order_id, order_days in days.items():
                order = orders[order_id]
                for day in order_days:
                    totals_keys.add((day, order["channel"], order["created_by_id"]))
                    product_keys |= {(month_of(day), product_id) for product_id in products.get(order_id, ())}
                    customer_keys.add((month_of(day), order["customer_id"]))
            _refresh_rollup(cursor, totals, totals_keys)
            _refresh_rollup(cursor, by_product, product_keys)
            _refresh_rollup(cursor, by_customer, customer_keys)
    snapshot_touch(SNAPSHOT)

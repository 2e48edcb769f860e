"""Building the sales snapshot tables (reports.sales.models) from orders, shipments, returns and the ledger.

Everything is set-based SQL that PostgreSQL and SQLite both run (the time-zone conversion comes from
Django's backend operations): the nightly rebuild empties the three tables and fills them with one
INSERT … SELECT … GROUP BY each; the refresh after an event rewrites only the *slices* the order
touches. A slice is one customer's rows of one day for one channel and salesperson: every row an
order contributes lies in the slice of its approval day (sales) or of its shipment and return days
(margin), and a slice is small (the orders of one customer on one day), so it is recomputed whole.

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

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import MovementKind, ReservationState
from logistics.models import Shipment
from logistics.returns.models import ReturnOutcome, ReturnRequest
from orders.models import OrderStatus, SalesOrder
from reports.snapshots import snapshot_touch

from .models import DailyMarginLine, DailySalesLine, DailySalesOrder

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
# A namespace for the PostgreSQL advisory lock that serializes refreshes of one customer's slices.
_LOCK_NAMESPACE = 7_311_001


@dataclass(frozen=True)
class Slice:
    """One customer's rows of one day, for one channel and salesperson."""

    day: date
    customer_id: int
    channel: str
    salesperson_id: int


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    """The calendar day of a moment in the company's time zone (what the SQL computes too)."""
    return timezone.localtime(moment, _zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first moment of the day and of the next one, in the company's time zone."""
    zone = _zone()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _day_of(column: str) -> tuple[str, list]:
    sql, params = connection.ops.datetime_cast_date_sql(column, (), settings.TIME_ZONE)
    return sql, list(params)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values) -> tuple[str, list]:
    values = [str(value) for value in values]
    return ", ".join(["%s"] * len(values)), values


def _kept_amounts(quantity: str, prefix: str = "l") -> str:
    """The net amount of `quantity` units of line `prefix`: the line's own amount when it is all of
    the line, else priced as the line is and rounded half-up to the cent. `* 1.0` keeps SQLite from
    dividing integers."""
    return (
        f"CASE WHEN {quantity} = {prefix}.quantity THEN {prefix}.line_net "
        f"ELSE ROUND({quantity} * {prefix}.unit_price * (100 - {prefix}.discount_percent) / 100.0, 2) END"
    )


def _slice_where(order: str, moment: str, part: Slice | None) -> tuple[str, list]:
    """The SQL condition (starting with AND) that keeps one slice: the order's customer, channel and
    salesperson, and `moment` within the day. Nothing when `part` is None (everything)."""
    if part is None:
        return "", []
    start, end = day_bounds(part.day)
    return (
        f" AND {order}.customer_id = %s AND {order}.channel = %s AND {order}.created_by_id = %s"
        f" AND {moment} >= %s AND {moment} < %s",
        [part.customer_id, part.channel, part.salesperson_id, start, end],
    )


def _facts_where(part: Slice | None) -> tuple[str, list]:
    if part is None:
        return "", []
    return (
        " AND day = %s AND customer_id = %s AND channel = %s AND salesperson_id = %s",
        [part.day, part.customer_id, part.channel, part.salesperson_id],
    )


# --- the three INSERT … SELECT statements ------------------------------------------------------------


def _insert_sales_lines(cursor, part: Slice | None) -> None:
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _in(BOOKED)
    where, where_params = _slice_where("o", "o.approved_at", part)
    # Only the slice's lines' reservations are ranked when refreshing one slice.
    held_where = " AND r.order_line_id IN (SELECT line_id FROM booked)" if part is not None else ""
    net = _kept_amounts("b.kept", prefix="b")
    cursor.execute(
        f"""
        INSERT INTO {_table(DailySalesLine)}
            (day, product_id, customer_id, channel, salesperson_id, warehouse_id, orders, lines, quantity, net, tax, gross)
        WITH booked AS (
            SELECT l.id AS line_id, l.order_id, {day} AS day, l.product_id, o.customer_id, o.channel,
                   o.created_by_id AS salesperson_id, l.quantity, l.unit_price, l.discount_percent, l.tax_rate,
                   l.line_net, l.line_tax, l.quantity - l.quantity_cancelled - l.quantity_returned AS kept
            FROM orders_salesorderline l JOIN orders_salesorder o ON o.id = l.order_id
            WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL{where}
        ),
        held AS (
            SELECT r.order_line_id, r.warehouse_id,
                   ROW_NUMBER() OVER (PARTITION BY r.order_line_id ORDER BY SUM(r.quantity) DESC, r.warehouse_id) AS place
            FROM inventory_reservation r
            WHERE r.state <> %s{held_where}
            GROUP BY r.order_line_id, r.warehouse_id
        ),
        priced AS (
            SELECT b.day, b.product_id, b.customer_id, b.channel, b.salesperson_id, h.warehouse_id, b.order_id,
                   b.kept, b.quantity, b.line_tax, b.tax_rate, {net} AS net
            FROM booked b LEFT JOIN held h ON h.order_line_id = b.line_id AND h.place = 1
            WHERE b.kept > 0
        ),
        taxed AS (
            SELECT day, product_id, customer_id, channel, salesperson_id, warehouse_id, order_id, kept, net,
                   CASE WHEN kept = quantity THEN line_tax ELSE ROUND(net * tax_rate, 2) END AS tax
            FROM priced
        )
        SELECT day, product_id, customer_id, channel, salesperson_id, warehouse_id,
               COUNT(DISTINCT order_id), COUNT(*), SUM(kept), SUM(net), SUM(tax), SUM(net) + SUM(tax)
        FROM taxed
        GROUP BY day, product_id, customer_id, channel, salesperson_id, warehouse_id
        """,
        [*day_params, *status_params, *where_params, ReservationState.RELEASED],
    )


def _insert_sales_orders(cursor, part: Slice | None) -> None:
    """Order counts from the orders, amounts from the line facts just written (so the two tables agree)."""
    day, day_params = _day_of("o.approved_at")
    statuses, status_params = _in(BOOKED)
    where, where_params = _slice_where("o", "o.approved_at", part)
    facts_where, facts_params = _facts_where(part)
    cursor.execute(
        f"""
        INSERT INTO {_table(DailySalesOrder)}
            (day, customer_id, channel, salesperson_id, orders, lines, net, tax, gross)
        SELECT c.day, c.customer_id, c.channel, c.salesperson_id, c.orders,
               COALESCE(f.lines, 0), COALESCE(f.net, 0), COALESCE(f.tax, 0), COALESCE(f.gross, 0)
        FROM (
            SELECT {day} AS day, o.customer_id, o.channel, o.created_by_id AS salesperson_id, COUNT(*) AS orders
            FROM orders_salesorder o
            WHERE o.status IN ({statuses}) AND o.approved_at IS NOT NULL{where}
            GROUP BY 1, 2, 3, 4
        ) c LEFT JOIN (
            SELECT day, customer_id, channel, salesperson_id,
                   SUM(lines) AS lines, SUM(net) AS net, SUM(tax) AS tax, SUM(gross) AS gross
            FROM {_table(DailySalesLine)}
            WHERE 1 = 1{facts_where}
            GROUP BY day, customer_id, channel, salesperson_id
        ) f ON f.day = c.day AND f.customer_id = c.customer_id AND f.channel = c.channel
            AND f.salesperson_id = c.salesperson_id
        """,
        [*day_params, *status_params, *where_params, *facts_params],
    )


def _shipped_units(where: str) -> str:
    """Units of order lines that left with the order's own shipments, each with its cost: the shipment's
    ledger movement's unit cost, or (shipped before the ledger kept costs) the product's cost today."""
    return f"""
        SELECT s.shipped_at AS moment, sl.order_line_id, l.product_id, o.customer_id, o.channel,
               o.created_by_id AS salesperson_id, s.warehouse_id, sl.quantity, {_kept_amounts("sl.quantity")} AS net,
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


def _insert_margin(cursor, part: Slice | None) -> None:
    shipped_day, shipped_day_params = _day_of("u.moment")
    returned_day, returned_day_params = _day_of("c.received_at")
    shipped_where, shipped_params = _slice_where("o", "s.shipped_at", part)
    returned_where, returned_params = _slice_where("o", "r.received_at", part)
    # The average cost of a returned line's shipments; only the slice's returned lines when refreshing one.
    costed_where = " AND sl.order_line_id IN (SELECT order_line_id FROM came_back)" if part is not None else ""
    kept_outcomes, kept_outcome_params = _in([ReturnOutcome.REPLACE, ""])
    returned_net = _kept_amounts("c.quantity")
    cursor.execute(
        f"""
        INSERT INTO {_table(DailyMarginLine)}
            (day, product_id, customer_id, channel, salesperson_id, warehouse_id, quantity, net, cost, estimated_quantity)
        WITH came_back AS (
            SELECT r.received_at, rl.order_line_id, rl.quantity, o.customer_id, o.channel, o.created_by_id AS salesperson_id
            FROM logistics_returnline rl
            JOIN logistics_returnrequest r ON r.id = rl.return_request_id
            JOIN orders_salesorder o ON o.id = r.order_id
            WHERE r.received_at IS NOT NULL AND rl.outcome NOT IN ({kept_outcomes}){returned_where}
        ),
        line_costs AS (
            SELECT u.order_line_id, MIN(u.warehouse_id) AS warehouse_id, SUM(u.quantity) AS quantity,
                   SUM(u.cost) AS cost, SUM(u.estimated) AS estimated
            FROM ({_shipped_units(costed_where)}) u
            GROUP BY u.order_line_id
        ),
        movements AS (
            SELECT {shipped_day} AS day, u.product_id, u.customer_id, u.channel, u.salesperson_id, u.warehouse_id,
                   u.quantity, u.net, u.cost, u.estimated
            FROM ({_shipped_units(shipped_where)}) u
            UNION ALL
            SELECT {returned_day}, l.product_id, c.customer_id, c.channel, c.salesperson_id, lc.warehouse_id,
                   -c.quantity, -({returned_net}),
                   -ROUND(c.quantity * COALESCE(lc.cost / (lc.quantity * 1.0), p.cost), 2),
                   CASE WHEN lc.estimated IS NULL OR lc.estimated > 0 THEN -c.quantity ELSE 0 END
            FROM came_back c
            JOIN orders_salesorderline l ON l.id = c.order_line_id
            JOIN inventory_product p ON p.id = l.product_id
            LEFT JOIN line_costs lc ON lc.order_line_id = c.order_line_id
        )
        SELECT day, product_id, customer_id, channel, salesperson_id, warehouse_id,
               SUM(quantity), SUM(net), SUM(cost), SUM(estimated)
        FROM movements
        GROUP BY day, product_id, customer_id, channel, salesperson_id, warehouse_id
        """,
        [
            *kept_outcome_params,
            *returned_params,
            MovementKind.SHIPMENT,
            *shipped_day_params,
            MovementKind.SHIPMENT,
            *shipped_params,
            *returned_day_params,
        ],
    )


# --- the whole tables, and the slices of one order -----------------------------------------------------


def _empty(cursor, model) -> None:
    # TRUNCATE on PostgreSQL: instant, and its lock makes the refreshes that arrive meanwhile wait for the new rows.
    verb = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
    cursor.execute(f"{verb} {_table(model)}")


def _delete_slice(cursor, model, part: Slice) -> None:
    where, params = _facts_where(part)
    cursor.execute(f"DELETE FROM {_table(model)} WHERE 1 = 1{where}", params)


def _lock_customer(customer_id: int) -> None:
    """Refreshes of one customer's slices run one at a time (two events of the same customer's orders
    would otherwise both rewrite the slice); SQLite serializes every write anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, customer_id % 2**31])


@transaction.atomic
def sales_facts_rebuild() -> None:
    """Every sales and margin fact recomputed from the orders, shipments, returns and ledger (nightly,
    safe to run twice): the tables are emptied and filled in one transaction, so readers see the old
    rows or the new ones."""
    started = timezone.now()
    with connection.cursor() as cursor:
        for model in (DailySalesLine, DailySalesOrder, DailyMarginLine):
            _empty(cursor, model)
        _insert_sales_lines(cursor, None)
        _insert_sales_orders(cursor, None)
        _insert_margin(cursor, None)
    snapshot_touch(SNAPSHOT, rebuilt=True, at=started)


def _margin_days(order_id: int) -> set[date]:
    """The days the order's own shipments left and its returns were received."""
    shipped = Shipment.objects.filter(
        order_id=order_id, shipped_at__isnull=False, replaces__isnull=True, replacement_for__isnull=True
    ).values_list("shipped_at", flat=True)
    received = ReturnRequest.objects.filter(order_id=order_id, received_at__isnull=False).values_list("received_at", flat=True)
    return {local_day(moment) for moment in [*shipped, *received]}


@transaction.atomic
def sales_facts_refresh_order(*, order_id: int) -> None:
    """The facts of one order brought up to date after an event (approval, allocation, cancellation,
    closing short, a shipment, a return): the slices it lies in are recomputed whole. Idempotent."""
    order = SalesOrder.objects.filter(pk=order_id).values("customer_id", "channel", "created_by_id", "approved_at").first()
    if order is None:
        return
    _lock_customer(order["customer_id"])

    def part(day: date) -> Slice:
        return Slice(day=day, customer_id=order["customer_id"], channel=order["channel"], salesperson_id=order["created_by_id"])

    with connection.cursor() as cursor:
        if order["approved_at"] is not None:  # never approved: never a sale
            booked = part(local_day(order["approved_at"]))
            _delete_slice(cursor, DailySalesLine, booked)
            _insert_sales_lines(cursor, booked)
            _delete_slice(cursor, DailySalesOrder, booked)
            _insert_sales_orders(cursor, booked)
        for day in sorted(_margin_days(order_id)):
            _delete_slice(cursor, DailyMarginLine, part(day))
            _insert_margin(cursor, part(day))
    snapshot_touch(SNAPSHOT)


def sales_facts_refresh_orders(*, order_ids) -> None:
    """sales_facts_refresh_order for several orders, in customer order (the order their locks are taken in)."""
    rows = SalesOrder.objects.filter(pk__in=list(order_ids)).order_by("customer_id", "pk").values_list("pk", flat=True)
    for order_id in rows:
        sales_facts_refresh_order(order_id=order_id)

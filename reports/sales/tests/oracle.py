"""The sales facts worked out in Python, line by line, from the raw rows: what the SQL must agree with.

Written independently of reports.sales.facts (loops over models, the money helper), so a test that
compares the two catches a wrong join, filter, rounding, day or rollup."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from config.money import round_money
from inventory.models import MovementKind, Reservation, ReservationState, StockMovement
from logistics.models import ShipmentLine
from logistics.returns.models import ReturnLine, ReturnOutcome
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from reports.sales.facts import local_day
from reports.sales.models import (
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

BOOKED = {"approved", "allocated", "backordered", "partially_shipped", "shipped", "delivered", "completed"}
assert BOOKED == set(OrderStatus.values) - {"draft", "submitted", "in_review", "rejected", "cancelled"}
ZERO = Decimal("0")


def _units_amount(line: SalesOrderLine, units: int) -> Decimal:
    if units == line.quantity:
        return line.line_net
    return round_money(Decimal(units) * line.unit_price * (Decimal(100) - line.discount_percent) / Decimal(100))


def _main_warehouse(line: SalesOrderLine) -> int | None:
    units: dict[int, int] = defaultdict(int)
    for reservation in Reservation.objects.filter(order_line=line).exclude(state=ReservationState.RELEASED):
        units[reservation.warehouse_id] += reservation.quantity
    if not units:
        return None
    return min(units, key=lambda warehouse_id: (-units[warehouse_id], warehouse_id))


# --- facts ---------------------------------------------------------------------------------------------


def expected_sales_lines() -> dict[int, tuple]:
    """{line id: (order, day, product, customer, channel, salesperson, warehouse, kept units, net, tax)}"""
    rows = {}
    for line in SalesOrderLine.objects.select_related("order").order_by("pk"):
        order = line.order
        if order.status not in BOOKED or order.approved_at is None:
            continue
        kept = line.quantity - line.quantity_cancelled - line.quantity_returned
        if kept <= 0:
            continue
        net = _units_amount(line, kept)
        tax = line.line_tax if kept == line.quantity else round_money(net * line.tax_rate)
        rows[line.pk] = (
            order.pk,
            local_day(order.approved_at),
            line.product_id,
            order.customer_id,
            order.channel,
            order.created_by_id,
            _main_warehouse(line),
            kept,
            net,
            tax,
        )
    return rows


def actual_sales_lines() -> dict[int, tuple]:
    fields = [
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
    ]
    return {row[0]: tuple(row[1:]) for row in SalesLineFact.objects.values_list("line_id", *fields)}


def expected_sales_orders() -> dict[int, tuple]:
    """{order id: (day, customer, channel, salesperson, lines, net, tax)}"""
    lines = expected_sales_lines()
    rows = {}
    for order in SalesOrder.objects.filter(status__in=BOOKED, approved_at__isnull=False):
        mine = [row for row in lines.values() if row[0] == order.pk]
        rows[order.pk] = (
            local_day(order.approved_at),
            order.customer_id,
            order.channel,
            order.created_by_id,
            len(mine),
            sum((row[8] for row in mine), ZERO),
            sum((row[9] for row in mine), ZERO),
        )
    return rows


def actual_sales_orders() -> dict[int, tuple]:
    fields = ["day", "customer_id", "channel", "salesperson_id", "lines", "net", "tax"]
    return {row[0]: tuple(row[1:]) for row in SalesOrderFact.objects.values_list("order_id", *fields)}


def expected_margin() -> Counter:
    """A multiset of (order, day, product, customer, channel, salesperson, warehouse, units, net, cost, estimated)."""
    rows: Counter = Counter()
    per_line: dict[int, list] = {}
    shipped = ShipmentLine.objects.filter(
        shipment__shipped_at__isnull=False, shipment__replaces__isnull=True, shipment__replacement_for__isnull=True
    ).select_related("shipment", "order_line__order", "order_line__product")
    for item in shipped:
        line, order, shipment = item.order_line, item.order_line.order, item.shipment
        movement = StockMovement.objects.filter(
            document=shipment.number, product_id=item.product_id, warehouse_id=shipment.warehouse_id, kind=MovementKind.SHIPMENT
        ).first()
        unit_cost = movement.unit_cost if movement and movement.unit_cost is not None else None
        cost = item.quantity * (unit_cost if unit_cost is not None else line.product.cost)
        estimated = item.quantity if unit_cost is None else 0
        day = local_day(shipment.shipped_at)
        who = (line.product_id, order.customer_id, order.channel, order.created_by_id, shipment.warehouse_id)
        rows[(order.pk, day, *who, item.quantity, _units_amount(line, item.quantity), cost, estimated)] += 1
        totals = per_line.setdefault(line.pk, [shipment.warehouse_id, 0, ZERO, 0])
        totals[0] = min(totals[0], shipment.warehouse_id)
        totals[1] += item.quantity
        totals[2] += cost
        totals[3] += estimated
    returned = ReturnLine.objects.filter(return_request__received_at__isnull=False).exclude(
        outcome__in=[ReturnOutcome.REPLACE, ""]
    )
    for item in returned.select_related("return_request", "order_line__order", "order_line__product"):
        line, order = item.order_line, item.order_line.order
        warehouse_id, quantity, cost, estimated = per_line[line.pk]
        day = local_day(item.return_request.received_at)
        who = (line.product_id, order.customer_id, order.channel, order.created_by_id, warehouse_id)
        returned_cost = round_money(item.quantity * cost / quantity)
        figures = (-item.quantity, -_units_amount(line, item.quantity), -returned_cost, -item.quantity if estimated else 0)
        rows[(order.pk, day, *who, *figures)] += 1
    return rows


def actual_margin() -> Counter:
    fields = [
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
    ]
    return Counter(MarginLineFact.objects.values_list(*fields))


# --- rollups: the expected facts grouped -----------------------------------------------------------------


def _grouped(rows, key, values) -> dict:
    totals: dict = {}
    for row in rows:
        figures = values(row)
        group = totals.setdefault(key(row), [0] * len(figures))
        for i, value in enumerate(figures):
            group[i] += value
    return {k: tuple(v) for k, v in totals.items()}


def expected_rollups() -> dict:
    lines, orders = expected_sales_lines(), expected_sales_orders()
    margin = [row for row, count in expected_margin().items() for _n in range(count)]
    month = lambda day: day.replace(day=1)  # noqa: E731
    order_sums = lambda r: (1, r[4], r[5], r[6])  # noqa: E731
    margin_sums = lambda r: (r[7], r[8], r[9], r[10])  # noqa: E731
    by_product_orders: dict = defaultdict(set)
    for order_id, day, product, _c, _ch, _s, warehouse, *_rest in lines.values():
        by_product_orders[(month(day), product, warehouse)].add(order_id)
    by_product = _grouped(lines.values(), lambda r: (month(r[1]), r[2], r[6]), lambda r: (1, r[7], r[8], r[9]))
    return {
        SalesTotals: _grouped(orders.values(), lambda r: (r[0], r[2], r[3]), order_sums),
        SalesByCustomer: _grouped(orders.values(), lambda r: (month(r[0]), r[1]), order_sums),
        SalesByProduct: {key: (len(by_product_orders[key]), *values) for key, values in by_product.items()},
        MarginTotals: _grouped(margin, lambda r: (r[1], r[4], r[5]), margin_sums),
        MarginByCustomer: _grouped(margin, lambda r: (month(r[1]), r[3]), margin_sums),
        MarginByProduct: _grouped(margin, lambda r: (month(r[1]), r[2], r[6]), margin_sums),
    }


ROLLUP_FIELDS = {
    SalesTotals: (["day", "channel", "salesperson_id"], ["orders", "lines", "net", "tax"]),
    SalesByCustomer: (["month", "customer_id"], ["orders", "lines", "net", "tax"]),
    SalesByProduct: (["month", "product_id", "warehouse_id"], ["orders", "lines", "quantity", "net", "tax"]),
    MarginTotals: (["day", "channel", "salesperson_id"], ["quantity", "net", "cost", "estimated_quantity"]),
    MarginByCustomer: (["month", "customer_id"], ["quantity", "net", "cost", "estimated_quantity"]),
    MarginByProduct: (["month", "product_id", "warehouse_id"], ["quantity", "net", "cost", "estimated_quantity"]),
}


def actual_rollups() -> dict:
    found = {}
    for model, (keys, values) in ROLLUP_FIELDS.items():
        rows = model.objects.values_list(*keys, *values)
        # A recomputed key whose facts are all gone has no row; one with figures has exactly one.
        found[model] = {tuple(row[: len(keys)]): tuple(row[len(keys) :]) for row in rows}
        assert len(found[model]) == len(rows), f"{model.__name__} has two rows for one key"
    return found


def assert_facts_match_raw_data() -> None:
    assert actual_sales_lines() == expected_sales_lines()
    assert actual_sales_orders() == expected_sales_orders()
    assert actual_margin() == expected_margin()
    assert actual_rollups() == expected_rollups()

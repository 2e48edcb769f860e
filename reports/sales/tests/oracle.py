"""The sales facts worked out in Python, line by line, from the raw rows: what the SQL must agree with.

Written independently of reports.sales.facts (loops over models, the money helper), so a test that
compares the two catches a wrong join, filter, rounding or day."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from config.money import round_money
from inventory.models import MovementKind, Reservation, ReservationState, StockMovement
from logistics.models import ShipmentLine
from logistics.returns.models import ReturnLine, ReturnOutcome
from orders.models import OrderStatus, SalesOrderLine
from reports.sales.facts import local_day
from reports.sales.models import DailyMarginLine, DailySalesLine, DailySalesOrder

BOOKED = {"approved", "allocated", "backordered", "partially_shipped", "shipped", "delivered", "completed"}
assert BOOKED == set(OrderStatus.values) - {"draft", "submitted", "in_review", "rejected", "cancelled"}


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


def expected_sales_lines() -> dict[tuple, tuple]:
    rows: dict[tuple, list] = {}
    orders_of: dict[tuple, set] = defaultdict(set)
    for line in SalesOrderLine.objects.select_related("order").order_by("pk"):
        order = line.order
        if order.status not in BOOKED or order.approved_at is None:
            continue
        kept = line.quantity - line.quantity_cancelled - line.quantity_returned
        if kept <= 0:
            continue
        net = _units_amount(line, kept)
        tax = line.line_tax if kept == line.quantity else round_money(net * line.tax_rate)
        day = local_day(order.approved_at)
        key = (day, line.product_id, order.customer_id, order.channel, order.created_by_id, _main_warehouse(line))
        row = rows.setdefault(key, [0, 0, Decimal("0"), Decimal("0"), Decimal("0")])
        row[0] += 1
        row[1] += kept
        row[2] += net
        row[3] += tax
        row[4] += net + tax
        orders_of[key].add(order.pk)
    return {key: (len(orders_of[key]), *values) for key, values in rows.items()}


def actual_sales_lines() -> dict[tuple, tuple]:
    return {
        (f.day, f.product_id, f.customer_id, f.channel, f.salesperson_id, f.warehouse_id): (
            f.orders,
            f.lines,
            f.quantity,
            f.net,
            f.tax,
            f.gross,
        )
        for f in DailySalesLine.objects.all()
    }


def expected_sales_orders() -> dict[tuple, tuple]:
    from orders.models import SalesOrder

    rows: dict[tuple, list] = {}
    lines = expected_sales_lines()
    for order in SalesOrder.objects.filter(status__in=BOOKED, approved_at__isnull=False):
        key = (local_day(order.approved_at), order.customer_id, order.channel, order.created_by_id)
        rows.setdefault(key, [0, 0, Decimal("0"), Decimal("0"), Decimal("0")])[0] += 1
    for (day, _product, customer, channel, salesperson, _warehouse), (_orders, count, _qty, net, tax, gross) in lines.items():
        row = rows[(day, customer, channel, salesperson)]
        row[1] += count
        row[2] += net
        row[3] += tax
        row[4] += gross
    return {key: tuple(values) for key, values in rows.items()}


def actual_sales_orders() -> dict[tuple, tuple]:
    return {
        (f.day, f.customer_id, f.channel, f.salesperson_id): (f.orders, f.lines, f.net, f.tax, f.gross)
        for f in DailySalesOrder.objects.all()
    }


def expected_margin() -> dict[tuple, tuple]:
    rows: dict[tuple, list] = {}
    per_line: dict[int, list] = {}

    def add(key, quantity, net, cost, estimated):
        row = rows.setdefault(key, [0, Decimal("0"), Decimal("0"), 0])
        row[0] += quantity
        row[1] += net
        row[2] += cost
        row[3] += estimated

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
        key = (day, line.product_id, order.customer_id, order.channel, order.created_by_id, shipment.warehouse_id)
        add(key, item.quantity, _units_amount(line, item.quantity), cost, estimated)
        totals = per_line.setdefault(line.pk, [shipment.warehouse_id, 0, Decimal("0"), 0])
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
        key = (
            local_day(item.return_request.received_at),
            line.product_id,
            order.customer_id,
            order.channel,
            order.created_by_id,
            warehouse_id,
        )
        returned_cost = round_money(item.quantity * cost / quantity)
        add(key, -item.quantity, -_units_amount(line, item.quantity), -returned_cost, -item.quantity if estimated else 0)
    return {key: tuple(values) for key, values in rows.items()}


def actual_margin() -> dict[tuple, tuple]:
    return {
        (f.day, f.product_id, f.customer_id, f.channel, f.salesperson_id, f.warehouse_id): (
            f.quantity,
            f.net,
            f.cost,
            f.estimated_quantity,
        )
        for f in DailyMarginLine.objects.all()
    }


def assert_facts_match_raw_data() -> None:
    assert actual_sales_lines() == expected_sales_lines()
    assert actual_sales_orders() == expected_sales_orders()
    assert actual_margin() == expected_margin()

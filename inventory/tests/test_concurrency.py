"""Real concurrent connections to PostgreSQL: clerks racing for the last units never oversell, and
allocations, receipts and cancellations touching the same stock rows in opposite orders never
deadlock nor lose a reservation."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.db.models import Sum

from config.actors import Actor  # noqa: E402
from inventory.models import Reservation, ReservationState, StockLevel
from inventory.stock.services import stock_receive, stock_verify_ledger
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.entry.services import order_cancel
from orders.fulfilment.services import order_allocate
from orders.models import OrderStatus, SalesOrder
from tests.concurrency import run_together

# Stock moved by the system in these tests (the services check a person's permission).
STOCK_CLERK = Actor.system("system")

SYSTEM = Actor.system("allocation")

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]


def deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def active_reserved(product, warehouse) -> int:
    return (
        Reservation.objects.filter(product=product, warehouse=warehouse, state=ReservationState.ACTIVE).aggregate(
            total=Sum("quantity")
        )["total"]
        or 0
    )


def allocate_job(order_id: int):
    def job():
        order_allocate(by=SYSTEM, order=SalesOrder.objects.get(pk=order_id))

    return job


def test_twenty_clerks_race_for_ten_units_and_exactly_ten_are_reserved():
    warehouse = WarehouseFactory(code="SH", priority=1)
    for _round in range(5):
        product = stocked_product(stock={warehouse: 10})
        orders = [approved_order(lines=[(product, 1)]) for _ in range(20)]

        errors = run_together([allocate_job(order.pk) for order in orders])

        assert errors == []
        stock = StockLevel.objects.get(product=product, warehouse=warehouse)
        assert (stock.on_hand, stock.reserved) == (10, 10)
        assert active_reserved(product, warehouse) == 10
        statuses = list(SalesOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))
        assert statuses.count(OrderStatus.ALLOCATED) == 10
        assert statuses.count(OrderStatus.BACKORDERED) == 10


def test_opposite_line_orders_receipts_and_cancellations_neither_deadlock_nor_lose_reservations():
    sh, bj, gz = (WarehouseFactory(code=code, priority=n) for n, code in enumerate(["SH", "BJ", "GZ"], start=1))
    warehouses = [sh, bj, gz]
    bolts = stocked_product(stock={sh: 5, bj: 5, gz: 5})
    nuts = stocked_product(stock={sh: 5, bj: 5, gz: 5})
    # Orders to cancel while the others allocate: their release touches the same rows.
    to_cancel = [order_allocate(by=SYSTEM, order=approved_order(lines=[(nuts, 2), (bolts, 2)])) for _ in range(3)]
    waiting = [approved_order(lines=[(bolts, 3), (nuts, 3)] if n % 2 else [(nuts, 3), (bolts, 3)]) for n in range(12)]

    def cancel_job(order_id: int):
        def job():
            order = SalesOrder.objects.get(pk=order_id)
            order_cancel(order=order, by=SYSTEM, reason="test")

        return job

    def receipt_job(warehouse, products):
        def job():
            stock_receive(warehouse=warehouse, quantities={product: 2 for product in products}, reference="race", by=STOCK_CLERK)

        return job

    jobs = [allocate_job(order.pk) for order in waiting]
    jobs += [cancel_job(order.pk) for order in to_cancel]
    jobs += [receipt_job(sh, [bolts, nuts]), receipt_job(bj, [nuts, bolts]), receipt_job(gz, [bolts, nuts])]
    before = deadlocks()

    errors = run_together(jobs)

    assert errors == []
    time.sleep(1)  # closed backends flush their statistics on exit
    assert deadlocks() == before
    for product in (bolts, nuts):
        for warehouse in warehouses:
            stock = StockLevel.objects.get(product=product, warehouse=warehouse)
            assert stock.reserved == active_reserved(product, warehouse)
            assert 0 <= stock.reserved <= stock.on_hand
    # Every order that waited ended allocated or backordered, and what it holds matches its status.
    for order in SalesOrder.objects.filter(pk__in=[o.pk for o in waiting]):
        held = (
            Reservation.objects.filter(order_line__order=order, state=ReservationState.ACTIVE).aggregate(t=Sum("quantity"))["t"]
            or 0
        )
        assert order.status in (OrderStatus.ALLOCATED, OrderStatus.BACKORDERED)
        assert (held == 6) == (order.status == OrderStatus.ALLOCATED)
    assert SalesOrder.objects.filter(pk__in=[o.pk for o in to_cancel], status=OrderStatus.CANCELLED).count() == 3
    assert stock_verify_ledger().ok

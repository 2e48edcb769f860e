"""Allocation strategy: one warehouse when it can, split by priority when it must, backorder the rest,
first come first served when stock arrives, release on cancel, and safe to run twice."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Sum

from config.actors import Actor  # noqa: E402
from config.outbox import outbox_dispatch, outbox_publish
from inventory.models import Reservation, ReservationState, StockLevel, StockMovement
from inventory.stock.services import stock_receive
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.entry.services import order_cancel
from orders.fulfilment.services import order_allocate, order_allocate_waiting, order_release_stock
from orders.models import OrderEvent, OrderStatus
from tests.queries import queries_for

# Stock moved by the system in these tests (the services check a person's permission).
STOCK_CLERK = Actor.system("system")

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouses():
    return (
        WarehouseFactory(code="SH", priority=1),
        WarehouseFactory(code="BJ", priority=2),
        WarehouseFactory(code="GZ", priority=3),
    )


def reserved_by_warehouse(order) -> dict[tuple[str, str], int]:
    rows = (
        Reservation.objects.filter(order_line__order=order, state=ReservationState.ACTIVE)
        .values_list("warehouse__code", "product__sku")
        .annotate(total=Sum("quantity"))
    )
    return {(code, sku): total for code, sku, total in rows}


def reload(order):
    return type(order).objects.get(pk=order.pk)


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_order_goes_to_the_one_warehouse_that_can_serve_every_line(warehouses):
    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 10, bj: 10})
    nuts = stocked_product(stock={sh: 1, bj: 10})
    order = approved_order(lines=[(bolts, 4), (nuts, 3)])

    order = order_allocate(by=SYSTEM, order=order)

    assert order.status == OrderStatus.ALLOCATED
    # SH comes first by priority but lacks nuts; BJ can ship the whole order from one place.
    assert reserved_by_warehouse(order) == {("BJ", bolts.sku): 4, ("BJ", nuts.sku): 3}
    assert level(bolts, bj).reserved == 4 and level(nuts, bj).reserved == 3
    assert level(bolts, sh).reserved == 0


def test_first_warehouse_by_priority_wins_when_several_could_serve(warehouses):
    sh, bj, gz = warehouses
    bolts = stocked_product(stock={gz: 50, bj: 50, sh: 50})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    assert reserved_by_warehouse(order) == {("SH", bolts.sku): 5}


def test_order_is_split_over_warehouses_by_priority_when_none_has_everything(warehouses):
    sh, bj, gz = warehouses
    bolts = stocked_product(stock={sh: 3, bj: 2, gz: 10})
    nuts = stocked_product(stock={bj: 4})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 6), (nuts, 4)]))

    assert order.status == OrderStatus.ALLOCATED
    assert reserved_by_warehouse(order) == {("SH", bolts.sku): 3, ("BJ", bolts.sku): 2, ("GZ", bolts.sku): 1, ("BJ", nuts.sku): 4}


def test_what_cannot_be_reserved_is_backordered_and_logged(warehouses):
    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 2, bj: 1})
    nuts = stocked_product(stock={sh: 9})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5), (nuts, 2)]))

    assert order.status == OrderStatus.BACKORDERED
    assert reserved_by_warehouse(order) == {("SH", bolts.sku): 2, ("BJ", bolts.sku): 1, ("SH", nuts.sku): 2}
    note = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.ALLOCATION).sentence
    assert f"2 × {bolts.sku}" in note and "Short (backordered)" in note
    transition = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.BACKORDERED)
    assert transition.from_state == OrderStatus.APPROVED


def test_an_order_with_nothing_in_stock_is_backordered_without_reservations(warehouses):
    bolts = stocked_product(stock={})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 1)]))
    assert order.status == OrderStatus.BACKORDERED
    assert not Reservation.objects.filter(order_line__order=order).exists()


def test_inactive_warehouses_are_not_allocated_from(warehouses):
    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 10, bj: 10})
    sh.is_active = False
    sh.save()
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 4)]))
    assert reserved_by_warehouse(order) == {("BJ", bolts.sku): 4}


def test_two_lines_of_the_same_product_are_both_reserved(warehouses):
    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 5})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 2), (bolts, 3)]))
    assert order.status == OrderStatus.ALLOCATED
    per_line = dict(
        Reservation.objects.filter(order_line__order=order).values_list("order_line__position").annotate(Sum("quantity"))
    )
    assert per_line == {1: 2, 2: 3}
    assert level(bolts, sh).reserved == 5


def test_running_allocation_twice_changes_nothing(warehouses):
    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 2})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    before = (
        list(Reservation.objects.values_list("pk", "quantity", "state")),
        list(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        OrderEvent.objects.filter(order=order).count(),
    )

    again = order_allocate(by=SYSTEM, order=order)
    order_allocate_waiting(by=SYSTEM)

    assert again.status == OrderStatus.BACKORDERED
    after = (
        list(Reservation.objects.values_list("pk", "quantity", "state")),
        list(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        OrderEvent.objects.filter(order=order).count(),
    )
    assert after == before


def test_allocated_or_cancelled_orders_are_left_alone(warehouses):
    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 20})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    assert order_allocate(by=SYSTEM, order=order).status == OrderStatus.ALLOCATED
    assert level(bolts, sh).reserved == 5


def test_a_backordered_order_only_reserves_what_it_still_misses(warehouses, django_capture_on_commit_callbacks):
    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 3})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    assert order.status == OrderStatus.BACKORDERED

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(warehouse=bj, quantities={bolts: 10}, reference="DN-1", by=STOCK_CLERK)

    order = reload(order)
    assert order.status == OrderStatus.ALLOCATED
    assert reserved_by_warehouse(order) == {("SH", bolts.sku): 3, ("BJ", bolts.sku): 2}
    assert level(bolts, bj).reserved == 2 and level(bolts, bj).on_hand == 10


def test_arriving_stock_goes_to_the_oldest_approval_first(warehouses, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={})
    now = timezone.now()
    newer = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 4)], approved_at=now - timedelta(hours=1)))
    older = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 4)], approved_at=now - timedelta(days=1)))
    assert newer.status == older.status == OrderStatus.BACKORDERED
    outbox_dispatch()  # what their approvals asked for is done before any stock arrives

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(warehouse=sh, quantities={bolts: 5}, by=STOCK_CLERK)

    older = reload(older)
    newer = reload(newer)
    assert older.status == OrderStatus.ALLOCATED
    assert newer.status == OrderStatus.BACKORDERED
    assert reserved_by_warehouse(newer) == {("SH", bolts.sku): 1}
    assert level(bolts, sh).reserved == 5


def test_approval_queues_allocation_after_commit(warehouses, django_capture_on_commit_callbacks):
    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 5})
    order = approved_order(lines=[(bolts, 2)])

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        outbox_publish(topic="orders.salesorder.approve", payload={"id": order.pk})
    order = reload(order)
    assert order.status == OrderStatus.APPROVED  # nothing happens before commit
    for callback in callbacks:
        callback()

    order = reload(order)
    assert order.status == OrderStatus.ALLOCATED
    assert reserved_by_warehouse(order) == {("SH", bolts.sku): 2}


def test_cancelling_an_order_releases_its_reservations(warehouses):
    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 3, bj: 3})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))

    order_cancel(order=order, by=SYSTEM, reason="customer changed mind")

    assert not Reservation.objects.filter(order_line__order=order, state=ReservationState.ACTIVE).exists()
    assert Reservation.objects.filter(order_line__order=order, state=ReservationState.RELEASED).count() == 2
    assert level(bolts, sh).reserved == 0 and level(bolts, bj).reserved == 0
    assert level(bolts, sh).on_hand == 3  # releasing moves no goods
    sentence = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.RELEASED).last().sentence
    assert "Reservations released" in sentence and "SH: 3" in sentence


def test_releasing_an_order_without_reservations_changes_nothing(warehouses):
    bolts = stocked_product(stock={})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 1)]))
    assert order_release_stock(order=order, by=SYSTEM) == 0


def test_allocation_never_touches_the_ledger(warehouses):
    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 5})
    movements = StockMovement.objects.count()
    order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    assert StockMovement.objects.count() == movements
    assert level(bolts, sh).on_hand == 5


@pytest.mark.parametrize("warehouse_count", [1, 3])
def test_allocation_query_count_does_not_grow_with_lines(warehouse_count):
    warehouses = [WarehouseFactory(code=f"Q{i}", priority=i + 1) for i in range(warehouse_count)]

    def allocate(line_count: int) -> int:
        products = [stocked_product(stock={wh: 2 for wh in warehouses}) for _ in range(line_count)]
        order = approved_order(lines=[(product, 2 * warehouse_count) for product in products])
        return queries_for(lambda: order_allocate(by=SYSTEM, order=order))

    assert allocate(1) == allocate(8)


def test_release_query_count_does_not_grow_with_lines(warehouses):
    sh, bj, _gz = warehouses

    def release(line_count: int) -> int:
        products = [stocked_product(stock={sh: 1, bj: 1}) for _ in range(line_count)]
        order = order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 2) for product in products]))
        return queries_for(lambda: order_release_stock(order=order, by=SYSTEM))

    assert release(1) == release(8)


def test_a_shipment_consumes_reservations_and_takes_the_goods_out(warehouses):
    from inventory.stock.reservations import stock_consume
    from inventory.stock.services import stock_verify_ledger

    sh, bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 3, bj: 4})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    line = order.lines.get()

    movements = stock_consume(quantities={line.pk: 4}, document="SHP-1", by=SYSTEM)

    assert sorted((m.warehouse.code, m.kind, m.quantity) for m in movements) == [("BJ", "shipment", -1), ("SH", "shipment", -3)]
    assert reserved_by_warehouse(order) == {("BJ", bolts.sku): 1}
    assert (level(bolts, sh).on_hand, level(bolts, sh).reserved) == (0, 0)
    assert (level(bolts, bj).on_hand, level(bolts, bj).reserved) == (3, 1)
    assert (
        sum(Reservation.objects.filter(order_line=line, state=ReservationState.CONSUMED).values_list("quantity", flat=True)) == 4
    )
    assert stock_verify_ledger().ok


def test_a_shipment_cannot_take_more_than_is_reserved(warehouses):
    from config.errors import DomainError
    from inventory.stock.reservations import stock_consume

    sh, _bj, _gz = warehouses
    bolts = stocked_product(stock={sh: 2})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5)]))
    with pytest.raises(DomainError, match="Only 2 of that line are reserved"):
        stock_consume(quantities={order.lines.get().pk: 3}, document="SHP-2", by=SYSTEM)
    assert (level(bolts, sh).on_hand, level(bolts, sh).reserved) == (2, 2)
    assert not StockMovement.objects.filter(kind="shipment").exists()

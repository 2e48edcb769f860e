"""Returns: opened for what shipped and has not come back, approved, received with an outcome per
line (restock, scrap, replace, refund), closed or rejected; the order lines and the ledger follow."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from config.errors import DomainError, PermissionRefused
from config.models import Notification
from config.outbox import OutboxEvent
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.stock.services import stock_verify_ledger
from inventory.tests.factories import WarehouseFactory, approved_order
from logistics.models import Shipment, ShipmentState
from logistics.returns.models import ReturnEvent, ReturnOutcome, ReturnState
from logistics.returns.services import (
    REFUND_TOPIC,
    LineOutcome,
    return_approve,
    return_close,
    return_open,
    return_receive,
    return_reject,
)
from logistics.shipments.services import shipment_cancel
from logistics.tests.factories import allocated_order, ship, stocked_product
from logistics.tests.returns_factories import approved_return, shipped_order
from orders.fulfilment.services import order_allocate, order_allocate_waiting
from orders.models import OrderEvent, OrderStatus, SalesOrderLine

pytestmark = pytest.mark.django_db


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def on_hand(product, warehouse) -> int:
    return StockLevel.objects.get(product=product, warehouse=warehouse).on_hand


@pytest.fixture
def tea(warehouse):
    return stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克")


@pytest.fixture
def seller(make_user):
    return make_user("sales")


@pytest.fixture
def order(tea, warehouse, clerk, seller):
    return shipped_order(lines=[(tea, 5)], warehouse=warehouse, clerk=clerk, salesperson=seller)


def test_a_return_is_opened_approved_received_into_stock_and_closed(order, tea, warehouse, clerk, seller):
    line = order.lines.get()
    assert on_hand(tea, warehouse) == 5

    opened = return_open(order=order, quantities={line.pk: 2}, reason="defective", details="Cracked lids", by=seller)
    assert opened.number.startswith("RMA-") and opened.state == ReturnState.REQUESTED
    approved = return_approve(return_request=opened, by=clerk)
    received = return_receive(
        return_request=approved, outcomes={opened.lines.get().pk: LineOutcome("restock", warehouse.pk)}, by=clerk
    )
    closed = return_close(return_request=received, by=clerk)

    assert closed.state == ReturnState.CLOSED
    assert fresh(line).quantity_returned == 2
    assert on_hand(tea, warehouse) == 7
    movement = StockMovement.objects.get(kind=MovementKind.RETURN)
    assert (movement.quantity, movement.document, movement.warehouse_id) == (2, opened.number, warehouse.pk)
    assert [e.kind for e in closed.events.order_by("pk")] == ["created", "approve", "receive", "close"]
    assert "2 × TEA-001 (Restock)" in closed.events.get(kind="receive").sentence
    assert order.events.filter(kind=OrderEvent.Kind.RETURNED, params__document=opened.number).exists()
    assert stock_verify_ledger().ok


def test_no_more_than_shipped_less_returned_and_less_open_returns_may_be_returned(order, clerk, seller):
    line = order.lines.get()
    first = return_open(order=order, quantities={line.pk: 3}, reason="defective", by=seller)

    with pytest.raises(DomainError) as refused:
        return_open(order=order, quantities={line.pk: 3}, reason="defective", by=seller)
    assert refused.value.code == "over_return" and "2 may still be returned" in str(refused.value)

    return_reject(return_request=first, note="Photos show no damage.", by=clerk)
    again = return_open(order=order, quantities={line.pk: 5}, reason="defective", by=seller)
    assert again.unit_count == 5


def test_a_return_of_an_order_that_has_not_shipped_is_refused(tea, clerk):
    order = allocated_order(lines=[(tea, 2)])
    with pytest.raises(DomainError) as refused:
        return_open(order=order, quantities={order.lines.get().pk: 1}, reason="defective", by=clerk)
    assert refused.value.code == "order_not_returnable"


def test_sales_open_returns_only_for_the_orders_they_entered_the_warehouse_for_any(order, make_user, clerk):
    line = order.lines.get()
    colleague = make_user("sales")
    with pytest.raises(PermissionRefused):
        return_open(order=order, quantities={line.pk: 1}, reason="defective", by=colleague)
    assert return_open(order=order, quantities={line.pk: 1}, reason="defective", by=clerk).unit_count == 1
    assert return_open(order=order, quantities={line.pk: 1}, reason="defective", by=make_user("manager")).unit_count == 1
    with pytest.raises(PermissionRefused):
        return_open(order=order, quantities={line.pk: 1}, reason="defective", by=make_user("finance"))


def test_sales_cannot_approve_or_receive_and_warehouse_may(order, seller, clerk):
    opened = return_open(order=order, quantities={order.lines.get().pk: 1}, reason="wrong_item", by=seller)
    with pytest.raises(PermissionRefused):
        return_approve(return_request=opened, by=seller)
    approved = return_approve(return_request=opened, by=clerk)
    with pytest.raises(PermissionRefused):
        return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("scrap")}, by=seller)
    assert fresh(opened).state == ReturnState.APPROVED


def test_a_return_cannot_be_received_before_it_is_approved(order, seller, clerk):
    opened = return_open(order=order, quantities={order.lines.get().pk: 1}, reason="defective", by=seller)
    with pytest.raises(DomainError):
        return_receive(return_request=opened, outcomes={opened.lines.get().pk: LineOutcome("scrap")}, by=clerk)
    assert fresh(order.lines.get()).quantity_returned == 0


def test_scrapped_units_are_returned_on_the_line_but_move_no_stock(order, tea, warehouse, clerk):
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("scrap")}, by=clerk)
    assert fresh(line).quantity_returned == 2
    assert on_hand(tea, warehouse) == 5
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN).exists()


def test_restocking_needs_an_active_warehouse_and_a_refusal_changes_nothing(order, tea, warehouse, clerk):
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    closed_down = WarehouseFactory(code="OLD", is_active=False)
    for outcome in (LineOutcome("restock"), LineOutcome("restock", closed_down.pk), LineOutcome("bury")):
        with pytest.raises(DomainError):
            return_receive(return_request=approved, outcomes={approved.lines.get().pk: outcome}, by=clerk)
    assert fresh(approved).state == ReturnState.APPROVED
    assert fresh(line).quantity_returned == 0
    assert on_hand(tea, warehouse) == 5


def test_a_refund_is_handed_to_finance_with_the_order_lines_and_quantities(
    order, clerk, make_user, django_capture_on_commit_callbacks
):
    finance = make_user("finance")
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 3}, by=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("refund")}, by=clerk)

    event = OutboxEvent.objects.get(topic=REFUND_TOPIC)
    assert event.payload == {
        "return_id": approved.pk,
        "return_number": approved.number,
        "order_id": order.pk,
        "order_number": order.number,
        "lines": [{"order_line_id": line.pk, "product_id": line.product_id, "quantity": 3}],
    }
    assert fresh(line).quantity_returned == 3
    notice = Notification.objects.get(recipient=finance)
    assert approved.number in notice.message and order.number in notice.message


def test_a_replacement_is_a_new_shipment_that_ships_without_changing_the_order_line(order, tea, warehouse, clerk):
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("replace")}, by=clerk)

    replacement = Shipment.objects.get(replaces=approved)
    assert replacement.state == ShipmentState.DRAFT and replacement.unit_count == 2
    assert fresh(line).quantity_returned == 0  # the customer keeps as many as before
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).reserved == 2

    ship(_pack(replacement, clerk), by=clerk)

    line = fresh(line)
    assert (line.quantity_shipped, line.quantity_returned) == (5, 0)
    assert fresh(order).status == OrderStatus.SHIPPED
    level = StockLevel.objects.get(product=tea, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert order.events.filter(kind=OrderEvent.Kind.REPLACEMENT, params__document=replacement.number).exists()
    assert stock_verify_ledger().ok


def test_cancelling_a_replacement_frees_the_stock_it_held_and_nothing_else(order, tea, warehouse, clerk):
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("replace")}, by=clerk)
    replacement = Shipment.objects.get(replaces=approved)
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).reserved == 2

    shipment_cancel(shipment=replacement, by=clerk, note="the customer wants a refund after all")

    assert fresh(replacement).state == ShipmentState.CANCELLED
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).reserved == 0
    assert not line.reservations.filter(state="active").exists()
    line = fresh(line)
    assert (line.quantity_shipped, line.quantity_returned) == (5, 0)  # the order's lines are untouched
    assert order.events.filter(kind=OrderEvent.Kind.RELEASED).exists()
    assert stock_verify_ledger().ok


def _pack(shipment, clerk):
    from decimal import Decimal

    from logistics.shipments.services import ParcelInput, shipment_pack
    from logistics.tests.factories import scan_all

    scan_all(shipment, by=clerk)
    return shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=Decimal("1"))], by=clerk)


def test_a_replacement_without_free_stock_is_refused_and_nothing_changes(order, tea, warehouse, clerk):
    line = order.lines.get()
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    other = allocated_order(lines=[(tea, 5)])  # takes the last five units
    assert other.status == OrderStatus.ALLOCATED
    with pytest.raises(DomainError) as refused:
        return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("replace")}, by=clerk)
    assert refused.value.code == "replacement_short"
    assert fresh(approved).state == ReturnState.APPROVED
    assert not Shipment.objects.filter(replaces=approved).exists()


def test_restocked_units_go_to_a_backordered_order(tea, warehouse, clerk, seller, django_capture_on_commit_callbacks):
    order = shipped_order(lines=[(tea, 10)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    waiting = order_allocate(order=approved_order(lines=[(tea, 2)]), by=clerk)
    assert waiting.status == OrderStatus.BACKORDERED
    approved = approved_return(order=order, quantities={order.lines.get().pk: 2}, by=clerk)

    with django_capture_on_commit_callbacks(execute=True):
        return_receive(
            return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("restock", warehouse.pk)}, by=clerk
        )

    assert OutboxEvent.objects.filter(topic="inventory.stock_available", payload__product_ids=[tea.pk]).exists()
    order_allocate_waiting(by=clerk, product_ids=[tea.pk])  # what the outbox handler does, run here in any case
    assert fresh(waiting).status == OrderStatus.ALLOCATED
    assert stock_verify_ledger().ok


def test_invoiced_units_cannot_come_back_before_finance_credits_them(order, clerk):
    line = order.lines.get()
    SalesOrderLine.objects.filter(pk=line.pk).update(quantity_invoiced=5)
    approved = approved_return(order=order, quantities={line.pk: 2}, by=clerk)
    with pytest.raises(DomainError) as refused:
        return_receive(return_request=approved, outcomes={approved.lines.get().pk: LineOutcome("refund")}, by=clerk)
    assert refused.value.code == "returned_invoiced"
    assert fresh(line).quantity_returned == 0
    assert not OutboxEvent.objects.filter(topic=REFUND_TOPIC).exists()


def test_the_database_refuses_returning_more_than_shipped(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesOrderLine.objects.filter(order=order).update(quantity_returned=6)


def test_lines_of_one_return_may_take_different_outcomes(tea, warehouse, clerk, seller):
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯")
    order = shipped_order(lines=[(tea, 3), (cup, 3)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    tea_line, cup_line = order.lines.order_by("position")
    approved = approved_return(order=order, quantities={tea_line.pk: 1, cup_line.pk: 2}, by=clerk)
    lines = {line.order_line_id: line for line in approved.lines.all()}
    return_receive(
        return_request=approved,
        outcomes={lines[tea_line.pk].pk: LineOutcome("restock", warehouse.pk), lines[cup_line.pk].pk: LineOutcome("scrap")},
        by=clerk,
    )
    outcomes = dict(approved.lines.values_list("order_line_id", "outcome"))
    assert outcomes == {tea_line.pk: ReturnOutcome.RESTOCK, cup_line.pk: ReturnOutcome.SCRAP}
    assert (fresh(tea_line).quantity_returned, fresh(cup_line).quantity_returned) == (1, 2)
    assert on_hand(tea, warehouse) == 8 and on_hand(cup, warehouse) == 7
    assert ReturnEvent.objects.filter(return_request=approved, kind="receive").count() == 1

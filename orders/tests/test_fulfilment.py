"""Fulfilment, the order side of stock: shipments consume reservations and fill the lines' shipped
quantities, closing short cancels the rest, lost reservations send an order back to waiting, and a
draft's Submit button and the submit service agree."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse

from config.actors import Actor
from config.errors import DomainError
from config.outbox import OutboxEvent, outbox_dispatch
from config.transitions import allowed_transitions
from customers.tests.factories import CustomerFactory
from inventory.counts.services import stock_count_open, stock_count_post, stock_count_record
from inventory.models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.entry.services import order_submit
from orders.fulfilment.services import (
    order_allocate,
    order_close_short,
    order_record_shipment,
    order_reservations_lost,
)
from orders.models import OrderEvent, OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_allowed_actions
from orders.tests.factories import AddressFactory, customer_with_address, draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

ALLOCATION = Actor.system("allocation")


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def active_reserved(line) -> int:
    return Reservation.objects.filter(order_line=line, state=ReservationState.ACTIVE).aggregate(n=Sum("quantity"))["n"] or 0


@pytest.fixture
def shipper(make_user):
    """A warehouse user who may also ship (logistics will call the service as such a user)."""
    user = make_user("warehouse")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="ship_salesorder"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SH", priority=1)


@pytest.fixture
def product(warehouse):
    return stocked_product(stock={warehouse: 10})


@pytest.fixture
def allocated(product):
    """An order for 5 of the product, allocated: 5 reserved in SH."""
    order = order_allocate(order=approved_order(lines=[(product, 5)]), by=ALLOCATION)
    assert order.status == OrderStatus.ALLOCATED
    return order


# --- shipments ----------------------------------------------------------------------------------


def test_shipping_part_of_an_order_consumes_that_much_reservation_and_makes_it_partially_shipped(
    allocated, product, warehouse, shipper
):
    line = allocated.lines.get()

    order = order_record_shipment(order=allocated, quantities={line.pk: 2}, document="DN-0001", by=shipper)

    assert order.status == fresh(allocated).status == OrderStatus.PARTIALLY_SHIPPED
    line.refresh_from_db()
    assert (line.quantity_shipped, line.open_quantity) == (2, 3)
    assert active_reserved(line) == 3
    assert Reservation.objects.filter(order_line=line, state=ReservationState.CONSUMED).aggregate(n=Sum("quantity"))["n"] == 2
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (8, 3)
    movement = StockMovement.objects.get(product=product, kind=MovementKind.SHIPMENT)
    assert (movement.quantity, movement.document, movement.warehouse) == (-2, "DN-0001", warehouse)
    assert movement.created_by == shipper
    shipped = order.events.get(kind=OrderEvent.Kind.SHIPPED)
    assert shipped.params == {"document": "DN-0001", "items": [[product.sku, 2]]}
    assert shipped.by == shipper
    assert order.events.filter(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.PARTIALLY_SHIPPED).count() == 1


def test_shipping_the_rest_makes_the_order_shipped_and_leaves_nothing_reserved(allocated, product, warehouse, shipper):
    line = allocated.lines.get()
    order_record_shipment(order=allocated, quantities={line.pk: 2}, document="DN-0001", by=shipper)

    order = order_record_shipment(order=allocated, quantities={line.pk: 3}, document="DN-0002", by=shipper)

    assert order.status == fresh(allocated).status == OrderStatus.SHIPPED
    line.refresh_from_db()
    assert (line.quantity_shipped, line.open_quantity) == (5, 0)
    assert active_reserved(line) == 0
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (5, 0)
    assert sum(StockMovement.objects.filter(product=product).values_list("quantity", flat=True)) == stock.on_hand
    moves = list(order.events.filter(kind=OrderEvent.Kind.TRANSITION).values_list("from_state", "to_state"))
    assert moves[-2:] == [
        (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED),
        (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED),
    ]


def test_a_second_partial_shipment_keeps_the_order_partially_shipped_with_one_status_row(allocated, shipper):
    line = allocated.lines.get()
    order_record_shipment(order=allocated, quantities={line.pk: 1}, document="DN-0001", by=shipper)

    order = order_record_shipment(order=allocated, quantities={line.pk: 1}, document="DN-0002", by=shipper)

    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert order.lines.get().quantity_shipped == 2
    assert order.events.filter(kind=OrderEvent.Kind.SHIPPED).count() == 2
    assert order.events.filter(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.PARTIALLY_SHIPPED).count() == 1


def test_shipping_more_than_is_open_is_refused_and_nothing_is_written(allocated, product, warehouse, shipper):
    line = allocated.lines.get()
    events = allocated.events.count()

    with pytest.raises(DomainError) as refused:
        order_record_shipment(order=allocated, quantities={line.pk: 6}, document="DN-0001", by=shipper)

    assert refused.value.code == "over_shipment"
    assert fresh(allocated).status == OrderStatus.ALLOCATED
    line.refresh_from_db()
    assert line.quantity_shipped == 0
    assert active_reserved(line) == 5
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (10, 5)
    assert not StockMovement.objects.filter(kind=MovementKind.SHIPMENT).exists()
    assert allocated.events.count() == events


def test_shipping_without_the_permission_is_refused_and_nothing_is_written(allocated, product, warehouse, make_user):
    line = allocated.lines.get()

    with pytest.raises(DomainError):
        order_record_shipment(order=allocated, quantities={line.pk: 2}, document="DN-0001", by=make_user("sales"))

    assert fresh(allocated).status == OrderStatus.ALLOCATED
    assert SalesOrderLine.objects.get(pk=line.pk).quantity_shipped == 0
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (10, 5)
    assert not StockMovement.objects.filter(kind=MovementKind.SHIPMENT).exists()


def test_the_database_refuses_a_line_shipped_beyond_what_was_ordered_and_not_cancelled(allocated):
    lines = SalesOrderLine.objects.filter(order=allocated)  # quantity 5

    with pytest.raises(IntegrityError), transaction.atomic():
        lines.update(quantity_shipped=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        lines.update(quantity_cancelled=2, quantity_shipped=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        lines.update(quantity_shipped=F("quantity") + 1)

    assert lines.get().quantity_shipped == 0
    lines.update(quantity_cancelled=2, quantity_shipped=3)  # exactly what is left is fine


def test_the_database_refuses_returned_or_invoiced_beyond_what_shipped(allocated):
    lines = SalesOrderLine.objects.filter(order=allocated)
    lines.update(quantity_shipped=3)

    with pytest.raises(IntegrityError), transaction.atomic():
        lines.update(quantity_returned=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        lines.update(quantity_returned=1, quantity_invoiced=3)


# --- closing short ------------------------------------------------------------------------------


def test_closing_short_cancels_what_has_not_shipped_releases_its_reservation_and_ships_the_order(
    allocated, product, warehouse, shipper, make_user
):
    line = allocated.lines.get()
    order_record_shipment(order=allocated, quantities={line.pk: 2}, document="DN-0001", by=shipper)
    assert level(product, warehouse).reserved == 3

    order = order_close_short(order=allocated, reason="The customer takes what came.", by=make_user("warehouse"))

    assert order.status == fresh(allocated).status == OrderStatus.SHIPPED
    line.refresh_from_db()
    assert (line.quantity_shipped, line.quantity_cancelled, line.open_quantity) == (2, 3, 0)
    assert active_reserved(line) == 0
    assert Reservation.objects.filter(order_line=line, state=ReservationState.RELEASED).aggregate(n=Sum("quantity"))["n"] == 3
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (8, 0)
    closed = order.events.get(kind=OrderEvent.Kind.CLOSED_SHORT)
    assert closed.params == {"items": [[product.sku, 3]]}
    move = order.events.filter(kind=OrderEvent.Kind.TRANSITION).order_by("-pk").first()
    assert (move.from_state, move.to_state, move.note) == (
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        "The customer takes what came.",
    )


def test_closing_short_a_backordered_order_cancels_the_units_that_never_came(warehouse, shipper, make_user):
    product = stocked_product(stock={warehouse: 3})
    order = order_allocate(order=approved_order(lines=[(product, 5)]), by=ALLOCATION)
    assert order.status == OrderStatus.BACKORDERED
    line = order.lines.get()
    order_record_shipment(order=order, quantities={line.pk: 3}, document="DN-0001", by=shipper)
    assert fresh(order).status == OrderStatus.PARTIALLY_SHIPPED

    closed = order_close_short(order=order, reason="Discontinued by the maker.", by=make_user("warehouse"))

    assert closed.status == OrderStatus.SHIPPED
    line.refresh_from_db()
    assert (line.quantity_shipped, line.quantity_cancelled) == (3, 2)
    stock = level(product, warehouse)
    assert (stock.on_hand, stock.reserved) == (0, 0)


def test_closing_short_needs_a_reason_and_a_first_shipment(warehouse, make_user):
    product = stocked_product(stock={warehouse: 3})
    order = order_allocate(order=approved_order(lines=[(product, 5)]), by=ALLOCATION)
    assert order.status == OrderStatus.BACKORDERED
    warehouse_user = make_user("warehouse")
    events = order.events.count()

    with pytest.raises(DomainError) as no_reason:
        order_close_short(order=order, reason="  ", by=warehouse_user)
    assert no_reason.value.field == "reason"
    with pytest.raises(DomainError) as nothing_shipped:
        order_close_short(order=order, reason="Customer is tired of waiting.", by=warehouse_user)
    assert "cancel" in str(nothing_shipped.value)

    assert fresh(order).status == OrderStatus.BACKORDERED
    assert order.lines.get().quantity_cancelled == 0
    assert active_reserved(order.lines.get()) == 3
    assert level(product, warehouse).reserved == 3
    assert order.events.count() == events


def test_an_allocated_order_with_nothing_shipped_cannot_be_closed_short(allocated, make_user):
    with pytest.raises(DomainError) as refused:
        order_close_short(order=allocated, reason="Customer changed their mind.", by=make_user("warehouse"))

    assert refused.value.code == "transition_not_allowed"
    assert fresh(allocated).status == OrderStatus.ALLOCATED


# --- the Submit button and the submit service agree ------------------------------------------------


def test_a_draft_that_cannot_be_submitted_is_refused_with_the_messages_submit_problems_gives(make_user):
    sales = make_user("sales")
    customer = CustomerFactory(is_blocked=True, blocked_reason="unpaid invoices")
    draft = draft_order(by=sales, customer=customer, address=None, lines=0)
    problems = draft.submit_problems()
    assert len(problems) == 3  # blocked customer, no line, no shipping address

    assert allowed_transitions(draft, sales, ["submit"]) == set()
    assert order_allowed_actions(order=draft, user=sales)["submit"] is False
    with pytest.raises(DomainError) as refused:
        order_submit(order=draft, by=sales)

    assert refused.value.code == "transition_not_allowed"
    for problem in problems:
        assert problem in str(refused.value)
    assert str(refused.value) == " ".join(problems)
    assert fresh(draft).status == OrderStatus.DRAFT


def test_once_its_problems_are_fixed_the_button_shows_and_the_service_submits(make_user):
    sales = make_user("sales")
    customer, _address = customer_with_address()
    draft = draft_order(by=sales, customer=customer, address=None)
    assert len(draft.submit_problems()) == 1  # only the shipping address is missing
    assert "submit" not in allowed_transitions(draft, sales, ["submit"])

    SalesOrder.objects.filter(pk=draft.pk).update(shipping_address=AddressFactory(customer=customer))
    draft = fresh(draft)

    assert draft.submit_problems() == []
    assert allowed_transitions(draft, sales, ["submit"]) == {"submit"}
    assert order_allowed_actions(order=draft, user=sales)["submit"] is True
    assert order_submit(order=draft, by=sales).status == OrderStatus.SUBMITTED


def test_the_submit_button_shows_only_on_the_page_of_a_draft_the_service_would_accept(client, make_user):
    sales = make_user("sales")
    customer, address = customer_with_address()
    refused = draft_order(by=sales, customer=customer, address=None)
    ready = draft_order(by=sales, customer=customer, address=address)
    client.force_login(sales)

    refused_page = client.get(refused.get_absolute_url())
    ready_page = client.get(ready.get_absolute_url())

    assert refused_page.status_code == ready_page.status_code == 200
    assert reverse("orders:submit", args=[refused.pk]) not in refused_page.content.decode()
    assert reverse("orders:submit", args=[ready.pk]) in ready_page.content.decode()


# --- reservations lost to a stock count ----------------------------------------------------------


def count_finds(product, warehouse, quantity, make_user) -> None:
    """A real stock count of the warehouse that finds `quantity` of the product: reserved stock
    beyond it is released in inventory (the outbox event it publishes is not dispatched here)."""
    clerk = make_user("warehouse")
    count = stock_count_open(warehouse=warehouse, by=clerk)
    line = count.lines.get(product=product)
    stock_count_record(count=count, quantities={line.pk: quantity}, by=clerk)
    stock_count_post(count=count, by=clerk)


def test_reservations_lost_to_a_count_send_an_allocated_order_back_to_backordered_with_a_timeline_event(
    allocated, product, warehouse, make_user
):
    line = allocated.lines.get()
    count_finds(product, warehouse, 2, make_user)  # 5 reserved, 2 left

    moved = order_reservations_lost(order_line_ids=[line.pk], document="SC-2026-000001")

    assert [order.pk for order in moved] == [allocated.pk]
    order = fresh(allocated)
    assert order.status == OrderStatus.BACKORDERED
    lost = order.events.get(kind=OrderEvent.Kind.RELEASED)
    assert lost.params == {"skus": [product.sku], "document": "SC-2026-000001"}
    assert (lost.actor_kind, lost.actor_name, lost.note) == ("system", "stock_count", "")
    move = order.events.filter(kind=OrderEvent.Kind.TRANSITION).order_by("-pk").first()
    assert (move.from_state, move.to_state, move.actor_name) == (OrderStatus.ALLOCATED, OrderStatus.BACKORDERED, "stock_count")


def test_lost_reservations_of_a_partly_shipped_order_leave_its_state_and_tell_its_timeline(allocated, product, shipper):
    line = allocated.lines.get()
    order_record_shipment(order=allocated, quantities={line.pk: 2}, document="DN-0001", by=shipper)

    moved = order_reservations_lost(order_line_ids=[line.pk], document="SC-2026-000002")

    assert moved == []
    assert fresh(allocated).status == OrderStatus.PARTIALLY_SHIPPED
    assert allocated.events.filter(kind=OrderEvent.Kind.RELEASED, params__document="SC-2026-000002").count() == 1


def test_a_stock_counts_released_reservations_event_sends_the_order_back_to_backordered(allocated, product, warehouse, make_user):
    """The count publishes "inventory.reservations_released"; orders handles it through the outbox."""
    outbox_dispatch()  # what the order's approval asked for is already done
    count_finds(product, warehouse, 2, make_user)
    event = OutboxEvent.objects.get(topic="inventory.reservations_released")

    outbox_dispatch()

    event.refresh_from_db()
    assert (event.last_error, event.attempts) == ("", 0)
    assert event.dispatched_at is not None
    assert fresh(allocated).status == OrderStatus.BACKORDERED


def test_an_order_reserved_again_before_the_handler_runs_is_not_sent_back(warehouse, make_user):
    """Stock that arrived elsewhere may already cover what the count took: the order is not short,
    so the lost-reservations event leaves it allocated."""
    from inventory.stock.services import stock_receive

    lamp = stocked_product(stock={warehouse: 6})
    order = order_allocate(order=approved_order(lines=[(lamp, 10)]), by=ALLOCATION)
    assert order.status == OrderStatus.BACKORDERED
    outbox_dispatch()
    line = order.lines.get()
    stock_receive(warehouse=WarehouseFactory(code="BJ", priority=2), quantities={lamp: 10}, by=make_user("warehouse"))
    count_finds(lamp, warehouse, 3, make_user)  # 3 of the 6 reserved in SH are lost
    assert active_reserved(line) == 3

    outbox_dispatch()  # stock available (BJ) first, then the count's released reservations

    assert active_reserved(line) == 10
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert fresh(order).events.filter(kind=OrderEvent.Kind.RELEASED).count() == 1

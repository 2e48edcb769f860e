"""Transfers between warehouses: draft, ship (transfer out, in transit), receive (transfer in, losses)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.errors import DomainError
from inventory.errors import InsufficientStock
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, draft_transfer, stock_put, stock_reserve
from inventory.transfers.models import StockTransfer, StockTransferLine, TransferState
from inventory.transfers.services import (
    ReceivedLine,
    transfer_add_line,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_remove_line,
    transfer_ship,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


@pytest.fixture
def shenzhen():
    return WarehouseFactory(code="SZ", name="深圳仓")


@pytest.fixture
def shanghai():
    return WarehouseFactory(code="SH", name="上海仓")


def on_hand(product, warehouse) -> int:
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return level.on_hand if level else 0


def receive_all(transfer, by):
    """Receive every line in full."""
    received = {line.pk: ReceivedLine(quantity=line.quantity) for line in transfer.lines.all()}
    return transfer_receive(transfer=transfer, received=received, by=by)


# --- drafts ------------------------------------------------------------------------------------


def test_a_transfer_is_numbered_per_year(clerk, shenzhen, shanghai):
    first = transfer_create(source=shenzhen, destination=shanghai, by=clerk)
    second = transfer_create(source=shanghai, destination=shenzhen, by=clerk)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"TR-{year}-000001", f"TR-{year}-000002")
    assert first.state == TransferState.DRAFT


def test_source_and_destination_must_differ(clerk, shenzhen):
    with pytest.raises(DomainError, match="different warehouses"):
        transfer_create(source=shenzhen, destination=shenzhen, by=clerk)
    assert not StockTransfer.objects.exists()


def test_database_refuses_a_transfer_to_the_same_warehouse(clerk, shenzhen, shanghai):
    transfer = transfer_create(source=shenzhen, destination=shanghai, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockTransfer.objects.filter(pk=transfer.pk).update(destination=shenzhen)


def test_a_transfer_cannot_go_to_an_inactive_warehouse(clerk, shenzhen):
    closed = WarehouseFactory(is_active=False)
    with pytest.raises(DomainError, match="not active"):
        transfer_create(source=shenzhen, destination=closed, by=clerk)


def test_a_salesperson_cannot_create_a_transfer(make_user, shenzhen, shanghai):
    with pytest.raises(DomainError, match="not allowed"):
        transfer_create(source=shenzhen, destination=shanghai, by=make_user("sales"))


def test_adding_a_product_twice_raises_its_line(clerk, shenzhen, shanghai):
    product = ProductFactory()
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 3), (product, 4)])
    assert list(transfer.lines.values_list("product_id", "quantity")) == [(product.pk, 7)]
    assert transfer.line_count == 1


@pytest.mark.parametrize("bad", [0, -2, "5", 1.5])
def test_a_line_needs_a_whole_positive_quantity(clerk, shenzhen, shanghai, bad):
    transfer = transfer_create(source=shenzhen, destination=shanghai, by=clerk)
    with pytest.raises(DomainError, match="whole number above zero"):
        transfer_add_line(transfer=transfer, product=ProductFactory(), quantity=bad, by=clerk)
    assert not transfer.lines.exists()


def test_a_line_cannot_grow_beyond_the_maximum(clerk, shenzhen, shanghai):
    product = ProductFactory()
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 999_999)])
    with pytest.raises(DomainError, match="more than one transfer line"):
        transfer_add_line(transfer=transfer, product=product, quantity=2, by=clerk)
    assert transfer.lines.get().quantity == 999_999


def test_removing_a_line_from_a_draft(clerk, shenzhen, shanghai):
    keep, drop = ProductFactory(), ProductFactory()
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(keep, 1), (drop, 2)])
    line = transfer.lines.get(product=drop)
    transfer = transfer_remove_line(transfer=transfer, line_id=line.pk, by=clerk)
    assert list(transfer.lines.values_list("product_id", flat=True)) == [keep.pk]
    assert transfer.line_count == 1
    with pytest.raises(DomainError, match="not on transfer"):
        transfer_remove_line(transfer=transfer, line_id=line.pk, by=clerk)


# --- shipping ----------------------------------------------------------------------------------


def test_shipping_takes_the_goods_out_of_the_source_into_transit(clerk, shenzhen, shanghai):
    product = ProductFactory()
    stock_put(product=product, warehouse=shenzhen, quantity=10)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 4)])

    shipped = transfer_ship(transfer=transfer, by=clerk)

    assert shipped.state == TransferState.SHIPPED and shipped.shipped_by == clerk
    assert (on_hand(product, shenzhen), on_hand(product, shanghai)) == (6, 0)
    movement = StockMovement.objects.get(document=transfer.number)
    assert (movement.kind, movement.quantity, movement.warehouse) == (MovementKind.TRANSFER_OUT, -4, shenzhen)
    assert transfer.lines.get().out_movement == movement


def test_cannot_ship_more_than_is_free_at_the_source_and_nothing_is_posted(clerk, shenzhen, shanghai):
    plenty, held = ProductFactory(sku="A-PLENTY"), ProductFactory(sku="B-HELD")
    stock_put(product=plenty, warehouse=shenzhen, quantity=50)
    stock_put(product=held, warehouse=shenzhen, quantity=10)
    stock_reserve(product=held, warehouse=shenzhen, quantity=8)  # 2 free
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(plenty, 5), (held, 3)])

    with pytest.raises(InsufficientStock, match="B-HELD: 3 to ship, 2 free"):
        transfer_ship(transfer=transfer, by=clerk)

    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT
    assert not StockMovement.objects.filter(document=transfer.number).exists()
    assert (on_hand(plenty, shenzhen), on_hand(held, shenzhen)) == (50, 10)


def test_a_product_never_stocked_at_the_source_cannot_be_shipped(clerk, shenzhen, shanghai):
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(ProductFactory(), 1)])
    with pytest.raises(InsufficientStock, match="1 to ship, 0 free"):
        transfer_ship(transfer=transfer, by=clerk)


def test_a_transfer_without_lines_cannot_ship(clerk, shenzhen, shanghai):
    transfer = transfer_create(source=shenzhen, destination=shanghai, by=clerk)
    with pytest.raises(DomainError, match="no lines"):
        transfer_ship(transfer=transfer, by=clerk)


def test_shipping_locks_the_source_stock_rows_in_primary_key_order(clerk, shenzhen, shanghai):
    products = [ProductFactory() for _ in range(3)]
    for product in reversed(products):  # stock rows created in reverse: pk order differs from line order
        stock_put(product=product, warehouse=shenzhen, quantity=5)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(p, 1) for p in products])
    with CaptureQueriesContext(connection) as queries:
        transfer_ship(transfer=transfer, by=clerk)
    statements = [q["sql"] for q in queries.captured_queries]
    first_lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql and '"inventory_stocklevel"' in sql)
    first_change = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "inventory_stocklevel"'))
    assert 'ORDER BY "inventory_stocklevel"."id" ASC' in statements[first_lock]
    assert first_lock < first_change  # every row is locked, in key order, before any of them changes
    assert all(str(p.pk) in statements[first_lock] for p in products)


def test_a_shipped_transfer_cannot_change_its_lines_or_be_cancelled(clerk, shenzhen, shanghai):
    product = ProductFactory()
    stock_put(product=product, warehouse=shenzhen, quantity=5)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 2)])
    transfer_ship(transfer=transfer, by=clerk)
    with pytest.raises(DomainError, match="can no longer change"):
        transfer_add_line(transfer=transfer, product=product, quantity=1, by=clerk)
    with pytest.raises(DomainError, match="cannot do"):
        transfer_cancel(transfer=transfer, by=clerk)
    with pytest.raises(DomainError, match="cannot do"):
        transfer_ship(transfer=transfer, by=clerk)
    assert on_hand(product, shenzhen) == 3


# --- receiving ---------------------------------------------------------------------------------


@pytest.fixture
def in_transit(clerk, shenzhen, shanghai):
    cups, plates = ProductFactory(sku="CUP", name="茶杯"), ProductFactory(sku="PLATE", name="盘子")
    stock_put(product=cups, warehouse=shenzhen, quantity=20)
    stock_put(product=plates, warehouse=shenzhen, quantity=20)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(cups, 10), (plates, 5)])
    return transfer_ship(transfer=transfer, by=clerk), cups, plates


def test_receiving_everything_puts_it_into_the_destination(clerk, shanghai, in_transit):
    transfer, cups, plates = in_transit
    received = receive_all(transfer, clerk)
    assert received.state == TransferState.RECEIVED and received.received_by == clerk
    assert (on_hand(cups, shanghai), on_hand(plates, shanghai)) == (10, 5)
    ins = StockMovement.objects.filter(document=transfer.number, kind=MovementKind.TRANSFER_IN)
    assert sorted(ins.values_list("quantity", flat=True)) == [5, 10]
    assert all(line.lost_quantity == 0 for line in transfer.lines.all())


def test_a_short_receipt_posts_what_arrived_and_records_the_rest_as_lost(clerk, shenzhen, shanghai, in_transit):
    transfer, cups, plates = in_transit
    cup_line, plate_line = transfer.lines.get(product=cups), transfer.lines.get(product=plates)

    transfer_receive(
        transfer=transfer,
        by=clerk,
        received={
            cup_line.pk: ReceivedLine(quantity=8, reason="2 broken in transit"),
            plate_line.pk: ReceivedLine(quantity=0, reason="lost"),
        },
    )

    cup_line.refresh_from_db()
    plate_line.refresh_from_db()
    assert (cup_line.received_quantity, cup_line.lost_quantity, cup_line.discrepancy_reason) == (8, 2, "2 broken in transit")
    assert (plate_line.received_quantity, plate_line.lost_quantity, plate_line.in_movement) == (0, 5, None)
    assert (on_hand(cups, shanghai), on_hand(plates, shanghai)) == (8, 0)
    assert (on_hand(cups, shenzhen), on_hand(plates, shenzhen)) == (10, 15)
    ins = StockMovement.objects.filter(document=transfer.number, kind=MovementKind.TRANSFER_IN)
    assert list(ins.values_list("product_id", "quantity")) == [(cups.pk, 8)]


def test_a_short_line_needs_a_reason_and_nothing_is_received_without_it(clerk, shanghai, in_transit):
    transfer, cups, plates = in_transit
    cup_line, plate_line = transfer.lines.get(product=cups), transfer.lines.get(product=plates)
    with pytest.raises(DomainError, match="CUP: 1 missing; say why"):
        transfer_receive(
            transfer=transfer,
            by=clerk,
            received={cup_line.pk: ReceivedLine(quantity=9), plate_line.pk: ReceivedLine(quantity=5)},
        )
    transfer.refresh_from_db()
    assert transfer.state == TransferState.SHIPPED
    assert on_hand(plates, shanghai) == 0
    assert not StockTransferLine.objects.filter(received_quantity__isnull=False).exists()


@pytest.mark.parametrize(("quantity", "message"), [(11, "only 10 were shipped"), (-1, "zero or more")])
def test_received_quantity_must_be_between_zero_and_what_was_shipped(clerk, in_transit, quantity, message):
    transfer, cups, plates = in_transit
    cup_line, plate_line = transfer.lines.get(product=cups), transfer.lines.get(product=plates)
    with pytest.raises(DomainError, match=message):
        transfer_receive(
            transfer=transfer,
            by=clerk,
            received={cup_line.pk: ReceivedLine(quantity=quantity, reason="x"), plate_line.pk: ReceivedLine(quantity=5)},
        )
    assert not StockMovement.objects.filter(document=transfer.number, kind=MovementKind.TRANSFER_IN).exists()


def test_every_line_must_be_answered_when_receiving(clerk, in_transit):
    transfer, cups, _plates = in_transit
    with pytest.raises(DomainError, match="every line"):
        transfer_receive(transfer=transfer, by=clerk, received={transfer.lines.get(product=cups).pk: ReceivedLine(quantity=10)})


def test_a_received_transfer_cannot_be_received_again(clerk, in_transit):
    transfer, *_ = in_transit
    receive_all(transfer, clerk)
    with pytest.raises(DomainError, match="cannot do"):
        receive_all(transfer, clerk)
    assert StockMovement.objects.filter(document=transfer.number, kind=MovementKind.TRANSFER_IN).count() == 2


def test_a_draft_cannot_be_received(clerk, shenzhen, shanghai):
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(ProductFactory(), 1)])
    with pytest.raises(DomainError, match="cannot do"):
        receive_all(transfer, clerk)


def test_receiving_queues_backorder_allocation_for_what_arrived(
    clerk, in_transit, monkeypatch, django_capture_on_commit_callbacks
):
    from config.outbox import OutboxEvent

    transfer, cups, plates = in_transit
    cup_line, plate_line = transfer.lines.get(product=cups), transfer.lines.get(product=plates)
    with django_capture_on_commit_callbacks(execute=True):
        transfer_receive(
            transfer=transfer,
            by=clerk,
            received={cup_line.pk: ReceivedLine(quantity=10), plate_line.pk: ReceivedLine(quantity=0, reason="left behind")},
        )
    # What arrived is offered to waiting orders through the outbox, in the receiving transaction.
    queued = list(OutboxEvent.objects.filter(topic="inventory.stock_available").values_list("payload", flat=True))
    assert {"product_ids": [cups.pk]} in queued
    assert all(plates.pk not in call["product_ids"] for call in queued)


# --- cancelling --------------------------------------------------------------------------------


def test_a_draft_can_be_cancelled_and_then_nothing_else(clerk, shenzhen, shanghai):
    product = ProductFactory()
    stock_put(product=product, warehouse=shenzhen, quantity=5)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 2)])
    cancelled = transfer_cancel(transfer=transfer, by=clerk)
    assert cancelled.state == TransferState.CANCELLED and cancelled.cancelled_by == clerk
    with pytest.raises(DomainError, match="cannot do"):
        transfer_ship(transfer=transfer, by=clerk)
    assert on_hand(product, shenzhen) == 5


def test_a_salesperson_cannot_ship_a_transfer(clerk, make_user, shenzhen, shanghai):
    product = ProductFactory()
    stock_put(product=product, warehouse=shenzhen, quantity=5)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(product, 2)])
    with pytest.raises(DomainError, match="not allowed"):
        transfer_ship(transfer=transfer, by=make_user("sales"))
    assert on_hand(product, shenzhen) == 5


# --- timeline -----------------------------------------------------------------------------------


def test_every_step_of_a_transfer_is_on_its_timeline_worded_when_shown(clerk, shenzhen, shanghai):
    cups, plates = ProductFactory(sku="CUP"), ProductFactory(sku="PLATE")
    stock_put(product=cups, warehouse=shenzhen, quantity=10)
    stock_put(product=plates, warehouse=shenzhen, quantity=10)
    transfer = draft_transfer(source=shenzhen, destination=shanghai, by=clerk, lines=[(cups, 4), (plates, 2)])
    transfer_ship(transfer=transfer, by=clerk)
    lines = {line.product_id: line for line in transfer.lines.all()}
    transfer_receive(
        transfer=transfer,
        by=clerk,
        received={lines[cups.pk].pk: ReceivedLine(quantity=4), lines[plates.pk].pk: ReceivedLine(quantity=1, reason="broken")},
    )

    events = list(transfer.events.order_by("at", "pk"))
    assert [(e.kind, e.from_state, e.to_state, e.by) for e in events] == [
        ("created", "", "draft", clerk),
        ("ship", "draft", "shipped", clerk),
        ("receive", "shipped", "received", clerk),
    ]
    assert [e.sentence for e in events] == [
        "From SZ to SH.",
        "Left SZ with 2 lines, 6 in all.",
        "Received 5 of 6 units; 1 lost in transit.",
    ]
    movement = StockMovement.objects.get(document=transfer.number, kind=MovementKind.TRANSFER_OUT, product=cups)
    assert movement.reason == "Transfer %(number)s to %(wh)s" and movement.reason_text == f"Transfer {transfer.number} to SH"
    transfer.refresh_from_db()
    assert transfer.shipped_at and transfer.received_at  # stamped by the transitions themselves

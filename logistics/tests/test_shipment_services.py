"""Shipments from reserved stock to the carrier: pick, scan into parcels, pack, ship with one waybill
per parcel; the order, its lines and the ledger follow; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext

from config.errors import DomainError, PermissionRefused
from config.outbox import OutboxEvent
from config.transitions import allowed_transitions
from inventory.models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement
from inventory.stock.services import stock_verify_ledger
from inventory.tests.factories import WarehouseFactory, stock_put
from logistics.models import Parcel, Shipment, ShipmentEvent, ShipmentLine, ShipmentState
from logistics.shipments.handlers import shipment_email_shipped
from logistics.shipments.selectors import pick_rows, ready_to_pick
from logistics.shipments.services import (
    ParcelInput,
    shipment_cancel,
    shipment_create,
    shipment_pack,
    shipment_scan,
    shipment_start_picking,
)
from logistics.tests.factories import allocated_order, carrier, packed_shipment, set_location, ship, stocked_product
from orders.fulfilment.services import order_allocate_waiting
from orders.models import OrderStatus, SalesOrder

pytestmark = pytest.mark.django_db

ACTIONS = ["start_picking", "pack", "ship", "cancel"]


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def shipped_mails(shipment):
    """The “shipped” e-mails sent (the order's own confirmation may go out in the same dispatch)."""
    return [m for m in mail.outbox if shipment.number in m.body]


def active_reserved(line) -> int:
    return Reservation.objects.filter(order_line=line, state=ReservationState.ACTIVE).aggregate(n=Sum("quantity"))["n"] or 0


@pytest.fixture
def two_products(warehouse):
    return (
        stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892"),
        stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯"),
    )


@pytest.fixture
def order(two_products):
    tea, cup = two_products
    order = allocated_order(lines=[(tea, 4), (cup, 2)])
    assert order.status == OrderStatus.ALLOCATED
    return order


def test_allocated_order_is_picked_packed_in_two_parcels_and_shipped_with_two_waybills(
    order, two_products, warehouse, clerk, django_capture_on_commit_callbacks
):
    tea, cup = two_products
    order.customer.email = "buyer@example.cn"
    order.customer.save()
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk, parcels=2)
    assert shipment.state == ShipmentState.PACKED
    assert shipment.number.startswith(f"SH-{timezone.localdate().year}-") and len(shipment.number) == 14

    with django_capture_on_commit_callbacks(execute=True):
        shipped = ship(shipment, by=clerk, waybills=["SF1000000001", "sf1000000002"], cod_amount=Decimal("88.00"))

    assert shipped.state == fresh(shipment).state == ShipmentState.SHIPPED
    assert list(shipped.parcels.order_by("index").values_list("index", "waybill_number", "carrier__code")) == [
        (1, "SF1000000001", "shunfeng"),
        (2, "SF1000000002", "shunfeng"),
    ]
    assert shipped.eta == timezone.localdate() + timedelta(days=carrier().transit_days)
    assert shipped.shipped_at is not None and shipped.cod_amount == Decimal("88.00")
    order = fresh(order)
    assert order.status == OrderStatus.SHIPPED
    assert [(line.quantity_shipped, active_reserved(line)) for line in order.lines.order_by("position")] == [(4, 0), (2, 0)]
    moves = StockMovement.objects.filter(kind=MovementKind.SHIPMENT, document=shipment.number)
    assert sorted(moves.values_list("product__sku", "quantity")) == [("CUP-002", -2), ("TEA-001", -4)]
    assert (
        StockLevel.objects.get(product=tea, warehouse=warehouse).on_hand,
        fresh(StockLevel.objects.get(product=tea, warehouse=warehouse)).reserved,
    ) == (6, 0)
    assert stock_verify_ledger().ok
    kinds = list(shipped.events.values_list("kind", flat=True))
    assert kinds == ["created", "start_picking", "pack", "ship", "email"]
    assert (
        shipped.events.get(kind="ship").sentence == "Handed to 顺丰速运 SF Express, waybill numbers SF1000000001, SF1000000002."
    )
    assert OutboxEvent.objects.filter(topic="logistics.shipment.ship").count() == 1
    (message,) = shipped_mails(shipment)
    assert message.to == ["buyer@example.cn"] and order.number in message.subject
    assert "https://www.kuaidi100.com/chaxun?com=shunfeng&nu=SF1000000002" in message.body


def test_the_shipped_email_is_in_the_customers_language_and_sent_once(
    order, warehouse, clerk, django_capture_on_commit_callbacks
):
    order.customer.email = "buyer@example.cn"
    order.customer.language = "zh-hans"
    order.customer.save()
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        ship(shipment, by=clerk)

    assert shipment_email_shipped(shipment_id=shipment.pk) is False  # a replayed event sends nothing
    (message,) = shipped_mails(shipment)
    assert order.number in message.subject
    with translation.override("zh-hans"):
        expected = gettext("Kind regards,")
    assert expected in message.body


def test_a_partial_shipment_leaves_the_order_partially_shipped_and_a_second_completes_it(order, warehouse, clerk):
    tea_line, cup_line = order.lines.order_by("position")
    first = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 3})
    ship(first, by=clerk)

    assert fresh(order).status == OrderStatus.PARTIALLY_SHIPPED
    assert (fresh(tea_line).quantity_shipped, active_reserved(tea_line), active_reserved(cup_line)) == (3, 1, 2)
    assert [(r.order.pk, r.units) for r in ready_to_pick()] == [(order.pk, 3)]

    second = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 1, cup_line.pk: 2})
    ship(second, by=clerk)

    assert fresh(order).status == OrderStatus.SHIPPED
    assert ready_to_pick() == []
    assert stock_verify_ledger().ok


def test_a_backordered_order_ships_what_is_reserved_then_the_rest_after_stock_arrives(warehouse, clerk):
    product = stocked_product(stock={warehouse: 3})
    order = allocated_order(lines=[(product, 5)])
    assert order.status == OrderStatus.BACKORDERED
    line = order.lines.get()
    with pytest.raises(DomainError) as refused:
        shipment_create(order=order, warehouse=warehouse, quantities={line.pk: 4}, by=clerk)
    assert refused.value.code == "over_pick"
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={line.pk: 3}), by=clerk)
    assert fresh(order).status == OrderStatus.PARTIALLY_SHIPPED

    stock_put(product=product, warehouse=warehouse, quantity=5)
    order_allocate_waiting(by=clerk, product_ids=[product.pk])
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={line.pk: 2}), by=clerk)

    assert fresh(order).status == OrderStatus.SHIPPED
    assert fresh(line).quantity_shipped == 5
    assert stock_verify_ledger().ok


def test_more_than_is_reserved_and_not_yet_on_a_shipment_cannot_be_picked(order, warehouse, clerk):
    tea_line, _cup_line = order.lines.order_by("position")
    shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 3}, by=clerk)

    with pytest.raises(DomainError) as refused:
        shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)

    assert refused.value.code == "over_pick"
    assert "TEA-001: 1 reserved in SH and not yet picked; 2 cannot be picked." in str(refused.value)
    assert Shipment.objects.count() == 1


def test_scanning_a_product_not_on_the_shipment_is_refused_with_a_clear_message(order, warehouse, clerk):
    stocked_product(stock={warehouse: 1}, sku="PLATE-9", name="竹制托盘")
    tea_line, _cup_line = order.lines.order_by("position")
    shipment = shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)

    with pytest.raises(DomainError) as refused:
        shipment_scan(shipment=shipment, code="plate-9", by=clerk)

    assert refused.value.code == "wrong_product"
    assert str(refused.value) == f"PLATE-9 竹制托盘 is not on shipment {shipment.number}: put it back."
    assert not Parcel.objects.exists()
    with pytest.raises(DomainError) as unknown:
        shipment_scan(shipment=shipment, code="NO-SUCH-CODE", by=clerk)
    assert unknown.value.code == "unknown_code"


def test_scanning_more_units_than_were_picked_is_refused(order, warehouse, clerk):
    tea_line, _cup_line = order.lines.order_by("position")
    shipment = shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)
    shipment_scan(shipment=shipment, code="6901234567892", by=clerk)  # the barcode
    shipment_scan(shipment=shipment, code="TEA-001", by=clerk)  # or the SKU

    with pytest.raises(DomainError) as refused:
        shipment_scan(shipment=shipment, code="6901234567892", by=clerk)

    assert refused.value.code == "excess"
    assert "TEA-001: 2 to pack on this shipment and 0 still open; 1 more is too many." == str(refused.value)
    assert ShipmentLine.objects.get(shipment=shipment).quantity_packed == 2
    assert fresh(shipment).state == ShipmentState.PICKING  # the first scan started picking


def test_the_database_refuses_more_packed_than_picked(order, warehouse, clerk):
    tea_line, _cup_line = order.lines.order_by("position")
    shipment = shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShipmentLine.objects.filter(shipment=shipment).update(quantity_packed=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShipmentLine.objects.filter(shipment=shipment).update(quantity=0, quantity_packed=0)


def test_packing_needs_every_unit_scanned_and_every_parcel_weighed(order, warehouse, clerk):
    tea_line, _cup_line = order.lines.order_by("position")
    shipment = shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)
    shipment_scan(shipment=shipment, code="TEA-001", by=clerk)

    with pytest.raises(DomainError) as refused:
        shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=Decimal("1"))], by=clerk)
    assert f"Not every picked unit of {shipment.number} is packed yet." in str(refused.value)

    shipment_scan(shipment=shipment, code="TEA-001", parcel_index=2, by=clerk)
    with pytest.raises(DomainError) as unweighed:
        shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=Decimal("1"))], by=clerk)
    assert str(unweighed.value) == "Parcel 2 needs a weight."
    assert fresh(shipment).state == ShipmentState.PICKING


def test_a_waybill_number_is_used_once_per_carrier(order, warehouse, clerk):
    tea_line, cup_line = order.lines.order_by("position")
    first = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 4})
    second = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={cup_line.pk: 2})
    ship(first, by=clerk, waybills=["SF0001"])

    with pytest.raises(DomainError) as refused:
        ship(second, by=clerk, waybills=["SF0001"])

    assert refused.value.code == "waybill_used"
    assert fresh(second).state == ShipmentState.PACKED
    with pytest.raises(DomainError) as missing:
        ship(second, by=clerk, waybills=[""])
    assert missing.value.code == "waybill_missing"


def test_cancelling_before_shipping_keeps_the_reservations_for_the_order(order, warehouse, clerk):
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)

    cancelled = shipment_cancel(shipment=shipment, by=clerk, note="Customer asked to wait.")

    assert cancelled.state == ShipmentState.CANCELLED and cancelled.cancelled_at is not None
    assert [active_reserved(line) for line in order.lines.order_by("position")] == [4, 2]
    assert fresh(order).status == OrderStatus.ALLOCATED
    assert not StockMovement.objects.filter(kind=MovementKind.SHIPMENT).exists()
    assert cancelled.events.get(kind="cancel").note == "Customer asked to wait."
    assert [(r.order.pk, r.units) for r in ready_to_pick()] == [(order.pk, 6)]  # picked again later
    with pytest.raises(DomainError):
        ship(cancelled, by=clerk)


def test_a_shipped_shipment_cannot_be_cancelled(order, warehouse, clerk):
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)

    with pytest.raises(DomainError):
        shipment_cancel(shipment=shipment, by=clerk)

    assert fresh(shipment).state == ShipmentState.SHIPPED
    assert allowed_transitions(fresh(shipment), clerk, ACTIONS) == set()


def test_sales_cannot_create_scan_pack_ship_or_cancel(order, warehouse, clerk, make_user):
    sales = make_user("sales")
    tea_line, _cup_line = order.lines.order_by("position")
    with pytest.raises(PermissionRefused):
        shipment_create(order=order, warehouse=warehouse, quantities={tea_line.pk: 1}, by=sales)
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)
    assert allowed_transitions(shipment, sales, ACTIONS) == set()
    assert allowed_transitions(shipment, clerk, ACTIONS) == {"cancel"}  # ship needs the waybills first
    with pytest.raises(PermissionRefused):
        ship(shipment, by=sales)
    with pytest.raises(PermissionRefused):
        shipment_cancel(shipment=shipment, by=sales)
    assert fresh(shipment).state == ShipmentState.PACKED
    assert fresh(order).status == OrderStatus.ALLOCATED


def test_timeline_sentences_are_worded_when_shown(order, warehouse, clerk):
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk, parcels=2)
    created = shipment.events.get(kind=ShipmentEvent.Kind.CREATED)
    assert created.params == {"order": order.number, "units": 6}
    assert created.sentence == f"Created for order {order.number} with 6 units to pick."
    assert shipment.events.get(kind="pack").sentence == "Packed in 2 parcels."
    with translation.override("zh-hans"):
        assert shipment.events.get(kind="pack").to_label  # a label, whatever the catalogue says


def test_the_pick_list_walks_the_bins_in_order(order, two_products, warehouse, clerk):
    tea, cup = two_products
    set_location(tea, warehouse, "B-02-1")
    set_location(cup, warehouse, "A-01-3")
    shipment = shipment_create(
        order=order, warehouse=warehouse, quantities={line.pk: line.quantity for line in order.lines.all()}, by=clerk
    )

    assert [(row.location, row.line.product.sku) for row in pick_rows(shipment=shipment)] == [
        ("A-01-3", "CUP-002"),
        ("B-02-1", "TEA-001"),
    ]


def test_starting_to_pick_twice_is_refused(order, warehouse, clerk):
    shipment = shipment_create(order=order, warehouse=warehouse, quantities={line.pk: 1 for line in order.lines.all()}, by=clerk)
    shipment_start_picking(shipment=shipment, by=clerk)
    with pytest.raises(DomainError):
        shipment_start_picking(shipment=shipment, by=clerk)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED


def test_a_shipment_from_the_second_warehouse_consumes_the_reservation_there_not_the_first(clerk, warehouse):
    second = WarehouseFactory(code="BJ", name="北京仓", priority=2)
    product = stocked_product(stock={warehouse: 2, second: 3})
    order = allocated_order(lines=[(product, 5)])  # 2 reserved in SH, 3 in BJ
    line = order.lines.get()
    assert sorted((r.warehouse_id, r.units) for r in ready_to_pick()) == sorted([(warehouse.pk, 2), (second.pk, 3)])

    ship(packed_shipment(order=order, warehouse=second, by=clerk, quantities={line.pk: 3}), by=clerk)

    moves = StockMovement.objects.filter(kind=MovementKind.SHIPMENT)
    assert list(moves.values_list("warehouse__code", "quantity")) == [("BJ", -3)]
    assert Reservation.objects.get(order_line=line, state=ReservationState.ACTIVE).warehouse == warehouse
    assert (
        StockLevel.objects.get(product=product, warehouse=warehouse).reserved,
        StockLevel.objects.get(product=product, warehouse=second).on_hand,
    ) == (2, 0)
    assert fresh(order).status == OrderStatus.PARTIALLY_SHIPPED
    assert stock_verify_ledger().ok


def test_each_line_keeps_the_ledgers_unit_cost_of_the_moment_it_left(two_products, warehouse, clerk):
    tea, cup = two_products
    type(tea).objects.filter(pk=tea.pk).update(cost=Decimal("150.00"))
    type(cup).objects.filter(pk=cup.pk).update(cost=Decimal("12.50"))
    order = allocated_order(lines=[(tea, 4), (cup, 2)])
    tea_line, cup_line = order.lines.order_by("position")
    first = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 3, cup_line.pk: 2})
    assert list(first.lines.values_list("unit_cost", flat=True)) == [None, None]  # not left yet

    ship(first, by=clerk)
    type(tea).objects.filter(pk=tea.pk).update(cost=Decimal("175.00"))
    second = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 1})
    ship(second, by=clerk)

    ledger = {
        (m.document, m.product_id): m.unit_cost
        for m in StockMovement.objects.filter(kind=MovementKind.SHIPMENT, document__in=[first.number, second.number])
    }
    kept = {(line.shipment.number, line.product_id): line.unit_cost for line in ShipmentLine.objects.select_related("shipment")}
    assert (
        kept
        == ledger
        == {
            (first.number, tea.pk): Decimal("150.00"),
            (first.number, cup.pk): Decimal("12.50"),
            (second.number, tea.pk): Decimal("175.00"),
        }
    )

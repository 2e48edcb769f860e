"""Real concurrent connections to PostgreSQL: two clerks shipping or picking the same reserved units
at the same moment never ship them twice nor pick more than is reserved."""

from __future__ import annotations

import pytest
from django.db import connection

from config.errors import DomainError
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.stock.services import stock_verify_ledger
from inventory.tests.factories import WarehouseFactory
from logistics.models import Shipment, ShipmentLine, ShipmentState
from logistics.shipments.services import shipment_create, shipment_ship
from logistics.tests.factories import allocated_order, carrier, packed_shipment, stocked_product
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]


def test_two_clerks_shipping_the_same_packed_shipment_at_once_ship_it_exactly_once(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(product, 4)])
    first, second = make_user("warehouse"), make_user("warehouse")
    shipment = packed_shipment(order=order, warehouse=warehouse, by=first)

    def ship_as(user, waybill):
        def job():
            shipment_ship(shipment=Shipment.objects.get(pk=shipment.pk), carrier=carrier(), waybills=[waybill], by=user)

        return job

    errors = run_together([ship_as(first, "SF-A-1"), ship_as(second, "SF-B-1")])

    assert len(errors) == 1 and isinstance(errors[0], DomainError), errors
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.SHIPPED
    assert SalesOrderLine.objects.get(order=order).quantity_shipped == 4
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert list(StockMovement.objects.filter(kind=MovementKind.SHIPMENT).values_list("quantity", flat=True)) == [-4]
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (6, 0)
    assert stock_verify_ledger().ok


def test_two_clerks_picking_the_same_reserved_line_at_once_cannot_pick_it_twice(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(product, 3)])
    line = order.lines.get()
    clerks = [make_user("warehouse"), make_user("warehouse")]

    def pick_as(user):
        def job():
            shipment_create(order=SalesOrder.objects.get(pk=order.pk), warehouse=warehouse, quantities={line.pk: 3}, by=user)

        return job

    errors = run_together([pick_as(user) for user in clerks])

    assert len(errors) == 1 and getattr(errors[0], "code", None) == "over_pick", errors
    assert list(ShipmentLine.objects.values_list("quantity", flat=True)) == [3]


def test_two_shipments_of_the_same_order_shipping_at_once_both_ship_and_the_order_is_shipped(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(product, 5)])
    line = order.lines.get()
    first, second = make_user("warehouse"), make_user("warehouse")
    shipments = [
        packed_shipment(order=order, warehouse=warehouse, by=first, quantities={line.pk: 2}),
        packed_shipment(order=order, warehouse=warehouse, by=second, quantities={line.pk: 3}),
    ]

    def ship_as(user, shipment, waybill):
        def job():
            shipment_ship(shipment=Shipment.objects.get(pk=shipment.pk), carrier=carrier(), waybills=[waybill], by=user)

        return job

    errors = run_together([ship_as(first, shipments[0], "SF-1"), ship_as(second, shipments[1], "SF-2")])

    assert errors == []
    assert SalesOrderLine.objects.get(pk=line.pk).quantity_shipped == 5
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (5, 0)
    assert stock_verify_ledger().ok

"""The logistics demo: bins on the stock rows and shipments of allocated orders in several states, seeded once."""

from __future__ import annotations

import io

import pytest

from inventory.models import StockLevel
from inventory.stock.services import stock_verify_ledger
from logistics.demo import seed
from logistics.models import Shipment, ShipmentState
from logistics.tests.factories import allocated_order, carrier, stocked_product
from orders.models import OrderStatus

pytestmark = pytest.mark.django_db


def test_demo_seeds_shipments_in_each_state_once(make_user, warehouse):
    clerk = make_user("warehouse")
    carrier("shunfeng"), carrier("ems")
    products = [stocked_product(stock={warehouse: 50}) for _i in range(3)]
    orders = [allocated_order(lines=[(products[0], 2), (products[i % 2 + 1], 1)]) for i in range(6)]
    out = io.StringIO()

    seed(users={"warehouse": clerk}, stdout=out)
    seed(users={"warehouse": clerk}, stdout=out)

    states = sorted(Shipment.objects.values_list("state", flat=True))
    assert states == sorted(["draft", "picking", "packed", "shipped", "shipped", "shipped"])
    packed = Shipment.objects.get(state=ShipmentState.PACKED)
    assert packed.parcels.count() == 2
    assert all(shipment.parcels.exclude(waybill_number="").count() == 2 for shipment in Shipment.objects.filter(state="shipped"))
    assert sum(order.__class__.objects.get(pk=order.pk).status == OrderStatus.SHIPPED for order in orders) == 3
    assert not StockLevel.objects.filter(location="").exists()
    assert stock_verify_ledger().ok
    assert "6 shipments" in out.getvalue()


def test_demo_seeds_a_received_return_with_a_restock_line_once(make_user, warehouse):
    from logistics.returns import demo as returns_demo
    from logistics.returns.models import ReturnOutcome, ReturnRequest, ReturnState

    clerk = make_user("warehouse")
    carrier("shunfeng"), carrier("ems")
    products = [stocked_product(stock={warehouse: 50}) for _i in range(3)]
    [allocated_order(lines=[(products[0], 2), (products[i % 2 + 1], 1)]) for i in range(6)]
    seed(users={"warehouse": clerk})
    on_hand = StockLevel.objects.get(product=products[0], warehouse=warehouse).on_hand

    returns_demo.seed(users={"warehouse": clerk})
    returns_demo.seed(users={"warehouse": clerk})

    received = ReturnRequest.objects.get()
    assert received.state == ReturnState.RECEIVED
    assert sorted(received.lines.values_list("outcome", flat=True)) == sorted([ReturnOutcome.RESTOCK, ReturnOutcome.SCRAP])
    assert StockLevel.objects.get(product=products[0], warehouse=warehouse).on_hand == on_hand + 1
    assert stock_verify_ledger().ok

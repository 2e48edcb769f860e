"""Shipping a big order costs no more SQL statements than a small one (pick, pack, ship)."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest

from logistics.shipments.services import ParcelInput, shipment_create, shipment_pack, shipment_ship
from logistics.tests.factories import allocated_order, carrier, scan_all, stocked_product
from orders.fulfilment import services as fulfilment
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def _steps(warehouse, clerk, lines: int, *, record_shipment=None) -> dict[str, int]:
    products = [stocked_product(stock={warehouse: 5}) for _i in range(lines)]
    order = allocated_order(lines=[(product, 2) for product in products])
    quantities = {line.pk: 2 for line in order.lines.all()}
    counts = {}
    with count_queries() as q:
        shipment = shipment_create(order=order, warehouse=warehouse, quantities=quantities, by=clerk)
    counts["create"] = len(q.captured_queries)
    scan_all(shipment, by=clerk)
    with count_queries() as q:
        shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=Decimal("3"))], by=clerk)
    counts["pack"] = len(q.captured_queries)
    sf = carrier()
    with mock.patch("logistics.shipments.services.order_record_shipment", record_shipment or fulfilment.order_record_shipment):
        with count_queries() as q:
            shipment_ship(shipment=shipment, carrier=sf, waybills=[f"SF{lines:08d}"], by=clerk)
    counts["ship"] = len(q.captured_queries)
    if record_shipment is not None:
        record_shipment.assert_called_once()
        assert record_shipment.call_args.kwargs["quantities"] == quantities
    return counts


def test_logistics_own_statements_for_a_100_line_shipment_are_as_many_as_for_10(warehouse, clerk):
    """Create, pack and ship (the order's side stubbed out) issue a constant number of statements."""
    _steps(warehouse, clerk, 1, record_shipment=mock.Mock())  # first number of the year, permission caches
    small = _steps(warehouse, clerk, 10, record_shipment=mock.Mock())
    large = _steps(warehouse, clerk, 100, record_shipment=mock.Mock())
    assert large == small, {"10 lines": small, "100 lines": large}


def test_shipping_a_100_line_order_takes_as_many_statements_as_10_lines(warehouse, clerk):
    """With the order's side and the ledger: one UPDATE of the lines, one of the stock rows, one INSERT of movements."""
    _steps(warehouse, clerk, 1)
    small = _steps(warehouse, clerk, 10)
    large = _steps(warehouse, clerk, 100)
    assert large == small, {"10 lines": small, "100 lines": large}

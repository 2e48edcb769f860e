"""The migration that gave shipment lines their unit cost fills it for lines shipped before, from the ledger."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

from inventory.models import MovementKind, StockMovement
from logistics.models import ShipmentLine
from logistics.tests.factories import allocated_order, packed_shipment, ship, stocked_product

pytestmark = pytest.mark.django_db

migration = importlib.import_module("logistics.migrations.0008_shipment_line_unit_cost")


def test_lines_shipped_before_the_column_take_their_ledger_cost_and_others_stay_empty(warehouse, clerk):
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-9", cost=Decimal("150.00"))
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-9", cost=Decimal("12.50"))
    order = allocated_order(lines=[(tea, 4), (cup, 2)])
    tea_line, cup_line = order.lines.order_by("position")
    shipped = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 4}), by=clerk)
    waiting = packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={cup_line.pk: 2})
    ShipmentLine.objects.update(unit_cost=None)  # as every line was before the column existed

    with connection.schema_editor() as editor:
        migration.unit_costs_from_ledger(apps, editor)

    assert shipped.lines.get().unit_cost == Decimal("150.00")
    assert waiting.lines.get().unit_cost is None  # not left: no ledger movement yet
    assert StockMovement.objects.get(kind=MovementKind.SHIPMENT, document=shipped.number).unit_cost == Decimal("150.00")

"""Test data for shipments: allocated orders in a warehouse, shipments taken through the services."""

from __future__ import annotations

import importlib
from decimal import Decimal

from config.actors import Actor
from inventory.models import StockLevel
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from logistics.models import Carrier, Shipment
from logistics.shipments.services import (
    ParcelInput,
    shipment_create,
    shipment_pack,
    shipment_scan,
    shipment_ship,
    shipment_start_picking,
)
from orders.fulfilment.services import order_allocate
from orders.models import SalesOrder

ALLOCATION = Actor.system("allocation")

__all__ = ["WarehouseFactory", "allocated_order", "carrier", "packed_shipment", "stocked_product"]


def allocated_order(*, lines, customer=None) -> SalesOrder:
    """An order with lines [(product, quantity)], approved and allocated (what can be reserved is)."""
    return order_allocate(order=approved_order(lines=lines, customer=customer), by=ALLOCATION)


SEEDED = importlib.import_module("logistics.migrations.0002_seed_carriers")


def carrier(code: str = "shunfeng") -> Carrier:
    """A carrier the migration seeds (made again after a transactional test emptied the tables)."""
    name, days = next((name, days) for seeded, name, days in SEEDED.CARRIERS if seeded == code)
    found, _created = Carrier.objects.get_or_create(
        code=code, defaults={"name": name, "transit_days": days, "tracking_url_template": SEEDED.TRACKING.format(code=code)}
    )
    return found


def set_location(product, warehouse, location: str) -> None:
    StockLevel.objects.filter(product=product, warehouse=warehouse).update(location=location)


def scan_all(shipment: Shipment, *, by, parcel_of=lambda line: 1) -> None:
    """Scan every picked unit of the shipment (barcode or SKU) into the parcel `parcel_of(line)` says."""
    for line in shipment.lines.select_related("product").order_by("pk"):
        for _unit in range(line.quantity - line.quantity_packed):
            shipment_scan(shipment=shipment, code=line.product.barcode or line.product.sku, parcel_index=parcel_of(line), by=by)


def packed_shipment(*, order: SalesOrder, warehouse, by, quantities=None, parcels: int = 1) -> Shipment:
    """A shipment of the order's reserved units (or `quantities`), picked, scanned and packed;
    with several parcels the lines are spread over them in turn."""
    lines = list(order.lines.order_by("position"))
    quantities = quantities or {line.pk: line.quantity for line in lines}
    shipment = shipment_create(order=order, warehouse=warehouse, quantities=quantities, by=by)
    shipment_start_picking(shipment=shipment, by=by)
    order_positions = {line.pk: i for i, line in enumerate(lines)}
    scan_all(shipment, by=by, parcel_of=lambda line: order_positions[line.order_line_id] % parcels + 1)
    return shipment_pack(
        shipment=shipment,
        parcels=[ParcelInput(index=i, weight_kg=Decimal("1.250")) for i in range(1, parcels + 1)],
        by=by,
    )


def ship(shipment: Shipment, *, by, waybills=None, **kwargs) -> Shipment:
    count = shipment.parcels.count()
    waybills = waybills or [f"SF{shipment.pk:06d}{i:02d}" for i in range(1, count + 1)]
    return shipment_ship(shipment=shipment, carrier=carrier(), waybills=waybills, by=by, **kwargs)

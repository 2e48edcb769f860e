"""Demo shipments: bins on the demo stock rows, and shipments of allocated demo orders in each state
so far (draft, picking, packed in two parcels, shipped), all through the services. Running it again adds nothing."""

from __future__ import annotations

import importlib
from decimal import Decimal

from django.apps import apps

from config.errors import DomainError
from inventory.models import StockLevel, Warehouse
from logistics.models import Carrier, Shipment
from logistics.shipments.selectors import pickable_quantities, ready_to_pick
from logistics.shipments.services import (
    ParcelInput,
    shipment_create,
    shipment_pack,
    shipment_scan,
    shipment_ship,
    shipment_start_picking,
)

# What becomes of the first ready orders, in order.
PLAN = ["draft", "picking", "packed", "shipped", "shipped", "shipped"]
AISLES = "ABCDEF"
# The carriers the migration seeds; the demo makes them again if someone removed them.
SEEDED_CARRIERS = importlib.import_module("logistics.migrations.0002_seed_carriers")


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _seed_bins() -> None:
    """Give every demo stock row without a bin one, aisle-shelf-level, so pick lists have a walking order."""
    levels = list(StockLevel.objects.filter(location="").order_by("warehouse_id", "product__sku"))
    for i, level in enumerate(levels):
        level.location = f"{AISLES[i // 40 % len(AISLES)]}-{i // 4 % 10 + 1:02d}-{i % 4 + 1}"
    StockLevel.objects.bulk_update(levels, ["location"], batch_size=500)


def _scan_everything(shipment: Shipment, clerk, parcels: int) -> None:
    for i, line in enumerate(shipment.lines.select_related("product").order_by("pk")):
        code = line.product.barcode or line.product.sku
        shipment_scan(shipment=shipment, code=code, parcel_index=i % parcels + 1, quantity=line.quantity, by=clerk)


def _take(row, target: str, clerk, waybill_no: int) -> Shipment:
    order = row.order
    quantities = {line_id: qty for (line_id, wh), qty in pickable_quantities(order=order).items() if wh == row.warehouse_id}
    warehouse = Warehouse.objects.get(pk=row.warehouse_id)
    shipment = shipment_create(order=order, warehouse=warehouse, quantities=quantities, by=clerk)
    if target == "draft":
        return shipment
    shipment_start_picking(shipment=shipment, by=clerk)
    if target == "picking":
        return shipment
    parcels = 2 if len(quantities) > 1 else 1
    _scan_everything(shipment, clerk, parcels)
    sizes = {"length_cm": 40, "width_cm": 30, "height_cm": 20}
    weights = [ParcelInput(index=i, weight_kg=Decimal("1.500") + i, **sizes) for i in range(1, parcels + 1)]
    shipment_pack(shipment=shipment, parcels=weights, by=clerk)
    if target == "packed":
        return shipment
    carrier = (
        Carrier.objects.filter(active=True).order_by("code").first() if waybill_no % 2 else Carrier.objects.get(code="shunfeng")
    )
    waybills = [f"{carrier.code[:2].upper()}{waybill_no:08d}{i}" for i in range(1, parcels + 1)]
    return shipment_ship(shipment=shipment, carrier=carrier, waybills=waybills, service="标准快递", by=clerk)


def seed(*, users, stdout=None) -> None:
    """A few shipments of allocated demo orders in different states."""
    clerk = users.get("warehouse")
    if clerk is None or Shipment.objects.exists():
        return
    SEEDED_CARRIERS.seed(apps, None)
    _seed_bins()
    rows = ready_to_pick()
    rows = [row for row in rows if row.order.shipping_address_id is not None]
    made = []
    for i, (row, target) in enumerate(zip(rows, PLAN, strict=False)):
        try:
            made.append(_take(row, target, clerk, 20261000 + i))
        except DomainError as error:
            _say(stdout, f"Logistics demo: {row.order.number} not shipped ({error}).")
    _say(stdout, f"Logistics demo: {len(made)} shipments ({', '.join(s.number for s in made)}).")

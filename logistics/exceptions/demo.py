"""Demo delivery exceptions: one shipment past its expected delivery (found late by the check) and
one reported lost, both still open; shipped through the services. Running it again adds nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from config.errors import DomainError
from inventory.models import Warehouse
from logistics.exceptions.models import DeliveryException, ExceptionKind
from logistics.exceptions.services import exception_report, exceptions_open_late
from logistics.models import Carrier, Shipment
from logistics.shipments.selectors import pickable_quantities, ready_to_pick
from logistics.shipments.services import ParcelInput, shipment_create, shipment_pack, shipment_scan, shipment_ship


def _ship_whole(row, clerk, *, waybill: str, eta) -> Shipment:
    quantities = {line_id: qty for (line_id, wh), qty in pickable_quantities(order=row.order).items() if wh == row.warehouse_id}
    shipment = shipment_create(
        order=row.order, warehouse=Warehouse.objects.get(pk=row.warehouse_id), quantities=quantities, by=clerk
    )
    for line in shipment.lines.select_related("product").order_by("pk"):
        shipment_scan(shipment=shipment, code=line.product.barcode or line.product.sku, quantity=line.quantity, by=clerk)
    shipment_pack(shipment=shipment, parcels=[ParcelInput(index=1, weight_kg=Decimal("2.000"))], by=clerk)
    carrier = Carrier.objects.filter(active=True, code="yuantong").first() or Carrier.objects.filter(active=True).first()
    return shipment_ship(shipment=shipment, carrier=carrier, waybills=[waybill], service="标准快递", eta=eta, by=clerk)


def seed(*, users, stdout=None) -> None:
    """A late shipment with its open exception and a lost one."""
    clerk = users.get("warehouse")
    if clerk is None or DeliveryException.objects.exists():
        return
    rows = [row for row in ready_to_pick() if row.order.shipping_address_id is not None][:2]
    today = timezone.localdate()
    made = []
    try:
        if rows:
            made.append(_ship_whole(rows[0], clerk, waybill="YT2026900001", eta=today - timedelta(days=2)))
            exceptions_open_late()
        if len(rows) > 1:
            lost = _ship_whole(rows[1], clerk, waybill="YT2026900002", eta=today + timedelta(days=1))
            exception_report(shipment=lost, kind=ExceptionKind.LOST, note="承运商称包裹在中转站遗失", by=clerk)
            made.append(lost)
    except DomainError as error:
        if stdout is not None:
            stdout.write(f"Delivery exceptions demo: stopped ({error}).")
    if stdout is not None:
        stdout.write(f"Delivery exceptions demo: {DeliveryException.objects.count()} open ({', '.join(s.number for s in made)}).")

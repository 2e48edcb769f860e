"""Wave picking: several ready orders of one warehouse picked in one walk. One shipment per order
(all its units reserved there and not yet on a shipment), picking started, and one combined pick
list in bin order. All or nothing: an order that can no longer be picked refuses the whole wave."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from inventory.models import StockLevel, Warehouse
from logistics.models import SHIP_PERMISSION, ShipmentLine
from logistics.shipments.selectors import pickable_quantities
from logistics.shipments.services import shipment_create, shipment_start_picking
from logistics.shipments.wave_models import PickWave
from orders.models import SalesOrder

MAX_WAVE_ORDERS = 50


@transaction.atomic
def wave_create(*, warehouse: Warehouse, order_ids: Iterable[int], by) -> PickWave:
    """A shipment per order of what is reserved for it in the warehouse and not on a shipment yet,
    picking started, grouped in one wave; orders are locked in primary-key order (no deadlock with
    another wave of the same orders)."""
    actor = Actor.of(by)
    if not actor.has_perm(SHIP_PERMISSION):
        raise PermissionRefused(_("You are not allowed to pick, pack or ship."))
    ids = sorted({int(pk) for pk in order_ids})
    if not ids:
        raise DomainError(_("Choose at least one order for the wave."), code="nothing_to_pick")
    if len(ids) > MAX_WAVE_ORDERS:
        raise DomainError(_("A wave takes at most %(max)s orders; choose fewer.") % {"max": MAX_WAVE_ORDERS}, code="wave_too_big")
    orders = SalesOrder.objects.in_bulk(ids)
    shipments = []
    nothing = []
    for order_id in ids:
        order = orders.get(order_id)
        if order is None:
            raise DomainError(_("One of the chosen orders does not exist any more."), code="unknown_order")
        # Read again under the order's lock, which shipment_create takes first.
        SalesOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
        quantities = {line_id: qty for (line_id, wh), qty in pickable_quantities(order=order).items() if wh == warehouse.pk}
        if not quantities:
            nothing.append(order.number)
            continue
        shipment = shipment_create(order=order, warehouse=warehouse, quantities=quantities, by=actor)
        shipments.append(shipment_start_picking(shipment=shipment, by=actor))
    if nothing:
        raise DomainError(
            _("Nothing of %(orders)s waits to be picked in %(warehouse)s any more; the wave was not made.")
            % {"orders": ", ".join(nothing), "warehouse": warehouse.code},
            code="not_pickable",
            items=nothing,
        )
    wave = PickWave.objects.create(number=document_number("pick_wave"), warehouse=warehouse, created_by=actor.user_or_none)
    wave.shipments.set(shipments)
    return wave


@dataclass
class WavePickRow:
    line: ShipmentLine
    location: str


def wave_pick_rows(*, wave: PickWave) -> list[WavePickRow]:
    """Every line of the wave's shipments in walking order: by bin (no bin last), SKU, then order number."""
    lines = list(ShipmentLine.objects.filter(shipment__waves=wave).select_related("product", "shipment__order").order_by("pk"))
    locations = dict(
        StockLevel.objects.filter(warehouse_id=wave.warehouse_id, product_id__in={line.product_id for line in lines}).values_list(
            "product_id", "location"
        )
    )
    rows = [WavePickRow(line=line, location=locations.get(line.product_id, "")) for line in lines]
    rows.sort(key=lambda r: (r.location == "", r.location, r.line.product.sku, r.line.shipment.order.number))
    return rows

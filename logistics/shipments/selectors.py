"""Reads of shipments: what is still to pick per order and warehouse, lists, the pick list's rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse

from inventory.models import Reservation, ReservationState, StockLevel
from logistics.models import BEFORE_SHIPPING, Shipment, ShipmentLine
from orders.models import OrderStatus, SalesOrder

# Orders whose reserved units may be picked.
PICKABLE_ORDER_STATES = [OrderStatus.ALLOCATED, OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_SHIPPED]


def reserved_in_warehouses(*, line_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """Units actively reserved per (order line, warehouse)."""
    rows = (
        Reservation.objects.filter(order_line_id__in=list(line_ids), state=ReservationState.ACTIVE)
        .order_by()
        .values("order_line", "warehouse")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "warehouse", "total")
    )
    return {(line_id, warehouse_id): total for line_id, warehouse_id, total in rows}


def in_open_shipments(*, line_ids: Iterable[int], exclude_shipment_id: int | None = None) -> dict[tuple[int, int], int]:
    """Units of each (order line, warehouse) already on a shipment that has not left yet."""
    lines = ShipmentLine.objects.filter(order_line_id__in=list(line_ids), shipment__state__in=BEFORE_SHIPPING)
    if exclude_shipment_id is not None:
        lines = lines.exclude(shipment_id=exclude_shipment_id)
    rows = (
        lines.order_by()
        .values("order_line", "shipment__warehouse")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "shipment__warehouse", "total")
    )
    return {(line_id, warehouse_id): total for line_id, warehouse_id, total in rows}


def pickable_quantities(*, order: SalesOrder) -> dict[tuple[int, int], int]:
    """Per (order line, warehouse): reserved there and not yet on an open shipment."""
    line_ids = list(order.lines.values_list("pk", flat=True))
    reserved = reserved_in_warehouses(line_ids=line_ids)
    taken = in_open_shipments(line_ids=line_ids)
    return {key: qty - taken.get(key, 0) for key, qty in reserved.items() if qty - taken.get(key, 0) > 0}


@dataclass
class ReadyToPick:
    """One order's reserved units in one warehouse that no shipment holds yet."""

    order: SalesOrder
    warehouse_id: int
    warehouse_code: str
    lines: int
    units: int

    def __str__(self) -> str:
        return f"{self.order.number} · {self.order.customer.name} · {self.warehouse_code} ({self.units})"

    def get_absolute_url(self) -> str:
        return reverse("logistics:shipment_create", args=[self.order.pk]) + f"?warehouse={self.warehouse_id}"


def ready_to_pick(*, warehouse_id: int | None = None, limit: int | None = None) -> list[ReadyToPick]:
    """Allocated, backordered and partly shipped orders with reserved units not yet on a shipment,
    per warehouse, oldest approval first. A constant number of queries."""
    reservations = Reservation.objects.filter(state=ReservationState.ACTIVE, order_line__order__status__in=PICKABLE_ORDER_STATES)
    if warehouse_id is not None:
        reservations = reservations.filter(warehouse_id=warehouse_id)
    reserved = (
        reservations.order_by()
        .values("order_line", "order_line__order", "warehouse", "warehouse__code")
        .annotate(total=Sum("quantity"))
    )
    rows = list(reserved)
    taken = in_open_shipments(line_ids={row["order_line"] for row in rows})
    per_order: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0, ""])
    for row in rows:
        left = row["total"] - taken.get((row["order_line"], row["warehouse"]), 0)
        if left > 0:
            entry = per_order[(row["order_line__order"], row["warehouse"])]
            entry[0] += 1
            entry[1] += left
            entry[2] = row["warehouse__code"]
    orders = SalesOrder.objects.select_related("customer").in_bulk({order_id for order_id, _w in per_order})
    found = [
        ReadyToPick(order=orders[order_id], warehouse_id=wh, warehouse_code=code, lines=n, units=units)
        for (order_id, wh), (n, units, code) in per_order.items()
    ]
    found.sort(key=lambda r: (r.order.approved_at is None, r.order.approved_at, r.order.pk, r.warehouse_code))
    return found[:limit] if limit else found


def shipment_list() -> QuerySet[Shipment]:
    """Shipments for lists: order, customer, warehouse and carrier in the same query."""
    return Shipment.objects.select_related("order__customer", "warehouse", "carrier")


def shipment_search(queryset: QuerySet[Shipment], text: str) -> QuerySet[Shipment]:
    """By shipment number, order number or any parcel's waybill number."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(number__icontains=text) | Q(order__number__icontains=text) | Q(parcels__waybill_number__icontains=text)
    ).distinct()


@dataclass
class PickRow:
    line: ShipmentLine
    location: str


def pick_rows(*, shipment: Shipment) -> list[PickRow]:
    """The shipment's lines in walking order: by bin location (no location last), then SKU."""
    lines = list(shipment.lines.select_related("product", "order_line").order_by("pk"))
    locations = dict(
        StockLevel.objects.filter(
            warehouse_id=shipment.warehouse_id, product_id__in=[line.product_id for line in lines]
        ).values_list("product_id", "location")
    )
    rows = [PickRow(line=line, location=locations.get(line.product_id, "")) for line in lines]
    rows.sort(key=lambda r: (r.location == "", r.location, r.line.product.sku))
    return rows

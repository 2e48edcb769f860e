"""Reads of shipments: what is still to pick per order and warehouse, lists, the pick list's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
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


def ready_to_pick_queryset(*, warehouse_id: int | None = None, order_ids: list[int] | None = None) -> QuerySet:
    """Per (order, warehouse): the order lines with units reserved there and not yet on an open
    shipment, and those units; allocated, backordered and partly shipped orders (or those of them in
    `order_ids`), oldest approval first. One aggregate query in SQL (rows are dicts), so it pages and
    counts at any size."""
    line_reserved = (
        Reservation.objects.filter(
            order_line=OuterRef("order_line"), warehouse=OuterRef("warehouse"), state=ReservationState.ACTIVE
        )
        .order_by()
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    line_taken = (
        ShipmentLine.objects.filter(
            order_line=OuterRef("order_line"), shipment__warehouse=OuterRef("warehouse"), shipment__state__in=BEFORE_SHIPPING
        )
        .order_by()
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    taken = (
        ShipmentLine.objects.filter(
            shipment__order=OuterRef("order_line__order"),
            shipment__warehouse=OuterRef("warehouse"),
            shipment__state__in=BEFORE_SHIPPING,
        )
        .order_by()
        .values("shipment__order")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    reservations = Reservation.objects.filter(state=ReservationState.ACTIVE, order_line__order__status__in=PICKABLE_ORDER_STATES)
    if warehouse_id is not None:
        reservations = reservations.filter(warehouse_id=warehouse_id)
    if order_ids is not None:
        reservations = reservations.filter(order_line__order__in=order_ids)
    return (
        reservations.annotate(
            line_left=Subquery(line_reserved, output_field=IntegerField())
            - Coalesce(Subquery(line_taken, output_field=IntegerField()), 0)
        )
        .values("order_line__order", "warehouse")
        .annotate(
            reserved=Sum("quantity"),
            taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0),
            units=F("reserved") - F("taken"),
            lines=Count("order_line", distinct=True, filter=Q(line_left__gt=0)),
            approved_at=Min("order_line__order__approved_at"),
            warehouse_code=Min("warehouse__code"),
        )
        .filter(units__gt=0)
        .order_by(F("approved_at").asc(nulls_last=True), "order_line__order", "warehouse_code")
    )


# Pickable orders the home's queue is first computed for (it grows fourfold until it holds enough rows).
READY_WINDOW = 10


def _pickable_orders():
    """Pickable orders' ids, oldest approval first: the queue's own order (the order_status_queue index)."""
    return (
        SalesOrder.objects.filter(status__in=PICKABLE_ORDER_STATES)
        .order_by(F("approved_at").asc(nulls_last=True), "pk")
        .values_list("pk", flat=True)
    )


def ready_to_pick_first(*, limit: int) -> tuple[list[dict], bool]:
    """The queue's first `limit` rows (dicts, as ready_to_pick_queryset's), computed for the oldest pickable orders
    only: the rows of the first orders by approval are the first rows of the queue. A backlog of tens of thousands
    of orders would be summed whole to sort them (seconds); a window of them takes milliseconds. Also whether every
    pickable order was in the window (the rows are then the whole queue, at most `limit` of them shown)."""
    window = READY_WINDOW
    while True:
        order_ids = list(_pickable_orders()[: window + 1])
        whole = len(order_ids) <= window
        rows = list(ready_to_pick_queryset(order_ids=order_ids[:window]))
        if whole or len(rows) >= limit:
            return rows, whole
        window *= 4


def orders_waiting_to_pick(*, cap: int) -> int:
    """How many pickable orders hold reserved stock, counted no further than `cap` + 1: a big queue's size on a home
    page, its orders without summing what each holds (so an order whose units all lie on a shipment being picked,
    still reserved until it leaves, is counted too)."""
    held = Reservation.objects.filter(order_line__order=OuterRef("pk"), state=ReservationState.ACTIVE)
    return _pickable_orders().filter(Exists(held))[: cap + 1].count()


def ready_to_pick_rows(rows) -> list[ReadyToPick]:
    """The queryset's rows (a page of them) as ReadyToPick records, their orders and customers read in one query."""
    rows = list(rows)
    orders = SalesOrder.objects.select_related("customer").in_bulk({row["order_line__order"] for row in rows})
    return [
        ReadyToPick(
            order=orders[row["order_line__order"]],
            warehouse_id=row["warehouse"],
            warehouse_code=row["warehouse_code"],
            lines=row["lines"],
            units=row["units"],
        )
        for row in rows
    ]


def ready_to_pick(*, warehouse_id: int | None = None, limit: int | None = None) -> list[ReadyToPick]:
    """Allocated, backordered and partly shipped orders with reserved units not yet on a shipment,
    per warehouse, oldest approval first (the first `limit` of them). Two queries."""
    rows = ready_to_pick_queryset(warehouse_id=warehouse_id)
    return ready_to_pick_rows(rows[:limit] if limit else rows)


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

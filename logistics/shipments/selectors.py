"""Reads of shipments: what is still to pick per order and warehouse, lists, the pick list's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.urls import reverse

from inventory.models import Reservation, ReservationState, StockLevel, Warehouse
from logistics.models import BEFORE_SHIPPING, Shipment, ShipmentLine
from orders.models import PICKABLE, SalesOrder

# Orders whose reserved units may be picked (the order_pick_queue index holds them, oldest approval first).
PICKABLE_ORDER_STATES = PICKABLE


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


@dataclass(frozen=True)
class QueuePosition:
    """A row of the pick queue as a page boundary: its order and warehouse (an order may have a row per warehouse)."""

    order_id: int
    warehouse_id: int

    def __str__(self) -> str:
        return f"{self.order_id}-{self.warehouse_id}"

    @classmethod
    def parse(cls, text: str | None) -> QueuePosition | None:
        """From "<order>-<warehouse>" (a page link's parameter); None for anything else."""
        order, _dash, warehouse = (text or "").partition("-")
        if not (order.isascii() and order.isdigit() and warehouse.isascii() and warehouse.isdigit()):
            return None
        if len(order) > 18 or len(warehouse) > 18:  # beyond a bigint: no such row
            return None
        return cls(int(order), int(warehouse))


@dataclass
class QueuePage:
    """One page of the pick queue and whether rows lie before and after it. Rows are dicts: order_line__order,
    warehouse, warehouse_code, lines (with units left) and units."""

    rows: list[dict]
    has_previous: bool
    has_next: bool

    @property
    def first(self) -> QueuePosition | None:
        return QueuePosition(self.rows[0]["order_line__order"], self.rows[0]["warehouse"]) if self.rows else None

    @property
    def last(self) -> QueuePosition | None:
        return QueuePosition(self.rows[-1]["order_line__order"], self.rows[-1]["warehouse"]) if self.rows else None


# The queue's rows in its order (approval, order, warehouse code): per pickable order and warehouse, the units reserved
# there less those on its open shipments there, and the lines with units left. The orders are read from the
# order_pick_queue index in that order and each is summed on its own, so the LIMIT stops the scan once the page is
# full: a page costs the same with ten or a hundred thousand orders waiting. Plain enough for SQLite too.
_QUEUE_SQL = """
SELECT id, warehouse_id, code, lines, units FROM (
    SELECT o.id, o.approved_at, w.id AS warehouse_id, w.code,
        (SELECT SUM(res.quantity) FROM orders_salesorderline l JOIN inventory_reservation res ON res.order_line_id = l.id
         WHERE l.order_id = o.id AND res.warehouse_id = w.id AND res.state = %(active)s)
        - COALESCE((SELECT SUM(sl.quantity) FROM logistics_shipment s JOIN logistics_shipmentline sl ON sl.shipment_id = s.id
                    WHERE s.order_id = o.id AND s.warehouse_id = w.id AND s.state IN ({open})), 0) AS units,
        (SELECT COUNT(*) FROM orders_salesorderline l
         WHERE l.order_id = o.id
           AND (SELECT SUM(res.quantity) FROM inventory_reservation res
                WHERE res.order_line_id = l.id AND res.warehouse_id = w.id AND res.state = %(active)s)
             > COALESCE((SELECT SUM(sl.quantity) FROM logistics_shipmentline sl JOIN logistics_shipment s ON s.id = sl.shipment_id
                         WHERE sl.order_line_id = l.id AND s.warehouse_id = w.id AND s.state IN ({open})), 0)) AS lines
    FROM orders_salesorder o CROSS JOIN inventory_warehouse w
    WHERE o.status IN ({pickable}) {warehouse} {boundary}
) queue
WHERE units > 0
ORDER BY {order}
LIMIT %(limit)s
"""
_FORWARD = "approved_at, id, code"
_BACKWARD = "approved_at DESC NULLS FIRST, id DESC, code DESC"


def pick_queue_page(
    *, size: int, warehouse_id: int | None = None, after: QueuePosition | None = None, before: QueuePosition | None = None
) -> QueuePage:
    """The pick queue's rows after the row `after` (or before the row `before`; else its first rows), at most `size`
    of them, in the queue's order. Paged by position, not by number: the queue moves while
    the warehouse picks, and an OFFSET would skip or repeat rows (and cost the whole queue's sums on every page).
    A position whose order or warehouse no longer exists starts from the first page."""
    boundary_row = after or before
    params = {"active": ReservationState.ACTIVE, "limit": size + 1, "warehouse": warehouse_id}
    params.update({f"pickable{i}": state for i, state in enumerate(PICKABLE_ORDER_STATES)})
    params.update({f"open{i}": state for i, state in enumerate(BEFORE_SHIPPING)})
    boundary = ""
    if boundary_row is not None:
        order = SalesOrder.objects.filter(pk=boundary_row.order_id).values_list("approved_at").first()
        code = Warehouse.objects.filter(pk=boundary_row.warehouse_id).values_list("code", flat=True).first()
        if order is None or code is None:
            after = before = None
        else:
            at = connection.ops.adapt_datetimefield_value(order[0])  # as stored (SQLite keeps text)
            params.update({"at": at, "order": boundary_row.order_id, "code": code})
            boundary = _boundary(forward=after is not None, null_time=order[0] is None)
    sql = _QUEUE_SQL.format(
        warehouse="AND w.id = %(warehouse)s" if warehouse_id is not None else "",
        pickable=", ".join(f"%(pickable{i})s" for i in range(len(PICKABLE_ORDER_STATES))),
        open=", ".join(f"%(open{i})s" for i in range(len(BEFORE_SHIPPING))),
        boundary=boundary,
        order=_BACKWARD if before is not None else _FORWARD,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    more = len(found) > size
    rows = [
        {"order_line__order": order_id, "warehouse": wh, "warehouse_code": code, "lines": lines, "units": units}
        for order_id, wh, code, lines, units in found[:size]
    ]
    if before is not None:
        rows.reverse()
        return QueuePage(rows=rows, has_previous=more, has_next=True)
    return QueuePage(rows=rows, has_previous=after is not None, has_next=more)


def _boundary(*, forward: bool, null_time: bool) -> str:
    """The rows strictly after (or before) the position's row, in the queue's order: approval time (none last), order,
    warehouse code. The position's own order is taken in whole and its rows cut by the code."""
    if forward:
        orders = (
            "(o.approved_at IS NULL AND o.id >= %(order)s)"
            if null_time
            else ("(o.approved_at > %(at)s OR (o.approved_at = %(at)s AND o.id >= %(order)s) OR o.approved_at IS NULL)")
        )
        return f"AND {orders} AND NOT (o.id = %(order)s AND w.code <= %(code)s)"
    orders = (
        "(o.approved_at IS NOT NULL OR o.id <= %(order)s)"
        if null_time
        else ("(o.approved_at < %(at)s OR (o.approved_at = %(at)s AND o.id <= %(order)s))")
    )
    return f"AND {orders} AND NOT (o.id = %(order)s AND w.code >= %(code)s)"


def _pickable_orders():
    """Pickable orders' ids, oldest approval first: the queue's own order (the order_pick_queue index)."""
    return (
        SalesOrder.objects.filter(status__in=PICKABLE_ORDER_STATES)
        .order_by(F("approved_at").asc(nulls_last=True), "pk")
        .values_list("pk", flat=True)
    )


def orders_waiting_to_pick(*, cap: int) -> int:
    """How many pickable orders hold reserved stock, counted no further than `cap` + 1: a big queue's size on a home
    page, its orders without summing what each holds (so an order whose units all lie on a shipment being picked,
    still reserved until it leaves, is counted too)."""
    held = Reservation.objects.filter(order_line__order=OuterRef("pk"), state=ReservationState.ACTIVE)
    return _pickable_orders().filter(Exists(held))[: cap + 1].count()


def ready_to_pick_rows(rows) -> list[ReadyToPick]:
    """The queue's rows (a page of them) as ReadyToPick records, their orders and customers read in one query."""
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
    per warehouse, oldest approval first (the first `limit` of them, else the whole queue page by page)."""
    page = pick_queue_page(size=limit or 500, warehouse_id=warehouse_id)
    rows = page.rows
    while page.has_next and not limit:
        page = pick_queue_page(size=500, warehouse_id=warehouse_id, after=page.last)
        rows += page.rows
    return ready_to_pick_rows(rows)


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

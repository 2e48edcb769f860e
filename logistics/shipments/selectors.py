"""Reads of shipments: what is still to pick per order and warehouse, lists, the pick list's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.urls import reverse

from inventory.models import Reservation, ReservationState, StockLevel
from logistics.models import BEFORE_SHIPPING, Shipment, ShipmentLine
from orders.models import PICKABLE, SalesOrder


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


@dataclass
class QueuePage:
    """One page of the pick queue: the rows of a number of orders, and whether orders lie before and after them.
    Rows are dicts: order_line__order, warehouse, warehouse_code, lines (with units left) and units."""

    rows: list[dict]
    has_previous: bool
    has_next: bool

    @property
    def first(self) -> int | None:
        """The first order's id: the position of the page before this one."""
        return self.rows[0]["order_line__order"] if self.rows else None

    @property
    def last(self) -> int | None:
        """The last order's id: the position of the page after this one."""
        return self.rows[-1]["order_line__order"] if self.rows else None


def queue_position(text: str | None) -> int | None:
    """An order id from a page link's parameter; None for anything else."""
    text = text or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


# Per pickable order and warehouse: the units reserved there, less those on the order's open shipments there.
_UNITS = """
    (SELECT SUM(res.quantity) FROM orders_salesorderline l JOIN inventory_reservation res ON res.order_line_id = l.id
     WHERE l.order_id = o.id AND res.warehouse_id = w.id AND res.state IN (%(active)s))
    - COALESCE((SELECT SUM(sl.quantity) FROM logistics_shipment s JOIN logistics_shipmentline sl ON sl.shipment_id = s.id
                WHERE s.order_id = o.id AND s.warehouse_id = w.id AND s.state IN ({open})), 0)
"""
# The page's orders: pickable orders with units left to pick, read from the order_pick_queue index in the queue's
# order (approval, then id) until the page is full, each summed on its own: a page costs the same with ten or a
# hundred thousand orders waiting. Plain enough for SQLite too.
_ORDERS_SQL = """
SELECT o.id FROM orders_salesorder o
WHERE o.status IN ({pickable}) {boundary}
  AND EXISTS (SELECT 1 FROM inventory_warehouse w WHERE ({units}) > 0 {warehouse})
ORDER BY {order}
LIMIT %(limit)s
"""
_FORWARD = "o.approved_at, o.id"
_BACKWARD = "o.approved_at DESC NULLS FIRST, o.id DESC"
# Their rows: per warehouse with units left, those units and the lines with units left, in the queue's order.
_ROWS_SQL = """
SELECT id, warehouse_id, code, lines, units FROM (
    SELECT o.id, o.approved_at, w.id AS warehouse_id, w.code, ({units}) AS units,
        (SELECT COUNT(*) FROM orders_salesorderline l
         WHERE l.order_id = o.id
           AND (SELECT SUM(res.quantity) FROM inventory_reservation res
                WHERE res.order_line_id = l.id AND res.warehouse_id = w.id AND res.state IN (%(active)s))
             > COALESCE((SELECT SUM(sl.quantity) FROM logistics_shipmentline sl JOIN logistics_shipment s ON s.id = sl.shipment_id
                         WHERE sl.order_line_id = l.id AND s.warehouse_id = w.id AND s.state IN ({open})), 0)) AS lines
    FROM orders_salesorder o CROSS JOIN inventory_warehouse w
    WHERE o.id IN ({orders}) {warehouse}
) queue
WHERE units > 0
ORDER BY approved_at, id, code
"""


def pick_queue_page(
    *, size: int, warehouse_id: int | None = None, after: int | None = None, before: int | None = None
) -> QueuePage:
    """The pick queue's rows for the `size` orders after the order `after` (or before the order `before`; else its
    first orders), in the queue's order (an order held in several warehouses has a row for each). Paged by position,
    not by number: the queue moves while the warehouse picks, and an OFFSET would skip or repeat orders (and sum the
    whole queue on every page). A position whose order no longer exists starts from the first page. Two statements
    (three with a position)."""
    sql, params, backward = queue_statement(size=size, warehouse_id=warehouse_id, after=after, before=before)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        order_ids = [order_id for (order_id,) in cursor.fetchall()]
        more = len(order_ids) > size
        order_ids = order_ids[:size]
        rows = []
        if order_ids:
            placeholders = ", ".join(f"%(order{i})s" for i in range(len(order_ids)))
            params.update({f"order{i}": order_id for i, order_id in enumerate(order_ids)})
            sql = _ROWS_SQL.format(units=_units(), open=_open(), orders=placeholders, warehouse=_in_warehouse(warehouse_id))
            cursor.execute(sql, params)
            rows = [
                {"order_line__order": order_id, "warehouse": wh, "warehouse_code": code, "lines": lines, "units": units}
                for order_id, wh, code, lines, units in cursor.fetchall()
            ]
    if backward:
        return QueuePage(rows=rows, has_previous=more, has_next=True)
    return QueuePage(rows=rows, has_previous="position" in params, has_next=more)


def queue_statement(
    *, size: int, warehouse_id: int | None = None, after: int | None = None, before: int | None = None
) -> tuple[str, dict, bool]:
    """The SQL and parameters of pick_queue_page's orders (size + 1 of them), and whether it reads the queue backwards."""
    params = {"active": ReservationState.ACTIVE, "limit": size + 1, "warehouse": warehouse_id}
    params.update({f"pickable{i}": state for i, state in enumerate(PICKABLE)})
    params.update({f"open{i}": state for i, state in enumerate(BEFORE_SHIPPING)})
    boundary, backward = "", False
    position = after if after is not None else before
    found = SalesOrder.objects.filter(pk=position).values_list("approved_at").first() if position is not None else None
    if found is not None:
        params.update({"at": connection.ops.adapt_datetimefield_value(found[0]), "position": position})  # as stored
        backward = after is None
        boundary = _boundary(forward=not backward, null_time=found[0] is None)
    sql = _ORDERS_SQL.format(
        pickable=", ".join(f"%(pickable{i})s" for i in range(len(PICKABLE))),
        boundary=boundary,
        warehouse=_in_warehouse(warehouse_id),
        units=_units(),
        order=_BACKWARD if backward else _FORWARD,
    )
    return sql, params, backward


def _units() -> str:
    return _UNITS.format(open=_open())


def _open() -> str:
    return ", ".join(f"%(open{i})s" for i in range(len(BEFORE_SHIPPING)))


def _in_warehouse(warehouse_id: int | None) -> str:
    return "" if warehouse_id is None else "AND w.id = %(warehouse)s"


def _boundary(*, forward: bool, null_time: bool) -> str:
    """The orders strictly after (or before) the position's order in the queue's order: approval (none last), id."""
    if forward:
        if null_time:
            return "AND o.approved_at IS NULL AND o.id > %(position)s"
        return "AND (o.approved_at > %(at)s OR (o.approved_at = %(at)s AND o.id > %(position)s) OR o.approved_at IS NULL)"
    if null_time:
        return "AND (o.approved_at IS NOT NULL OR o.id < %(position)s)"
    return "AND (o.approved_at < %(at)s OR (o.approved_at = %(at)s AND o.id < %(position)s))"


def _pickable_orders():
    """Pickable orders' ids, oldest approval first: the queue's own order (the order_pick_queue index)."""
    return (
        SalesOrder.objects.filter(status__in=PICKABLE)
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

"""Reads of fulfilment: what waits for stock, each line's stock, the shortfall for replenishment."""

from __future__ import annotations

from django.db.models import F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Reservation, ReservationState
from inventory.stock.reservations import reservations_by_line
from orders.models import OrderStatus, SalesOrderLine

from .services import WAITING_FOR_STOCK, waiting_orders


def waiting_for_allocation(*, status: str | None = None):
    """Approved and backordered orders, oldest approval first, with ordered and reserved units."""
    ordered = (
        SalesOrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(F("quantity") - F("quantity_shipped") - F("quantity_cancelled")))
        .values("total")
    )
    reserved = (
        Reservation.objects.filter(order_line__order=OuterRef("pk"), state=ReservationState.ACTIVE)
        .order_by()
        .values("order_line__order")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    orders = (
        waiting_orders()
        .select_related("customer")
        .annotate(
            units_ordered=Coalesce(Subquery(ordered, output_field=IntegerField()), 0),
            units_reserved=Coalesce(Subquery(reserved, output_field=IntegerField()), 0),
        )
        .annotate(units_short=F("units_ordered") - F("units_reserved"))
    )
    if status in WAITING_FOR_STOCK:
        orders = orders.filter(status=status)
    return orders


def order_lines_stock(*, order) -> list[dict]:
    """Per line of the order: where it is reserved, how much, what shipped and the shortfall (two queries)."""
    lines = list(SalesOrderLine.objects.filter(order_id=order.pk).select_related("product").order_by("position", "pk"))
    by_line = reservations_by_line(line_ids=[line.pk for line in lines])
    rows = []
    for line in lines:
        places: dict[str, int] = {}
        for reservation in by_line[line.pk]:
            if reservation.state == ReservationState.ACTIVE:
                places[reservation.warehouse.code] = places.get(reservation.warehouse.code, 0) + reservation.quantity
        reserved = sum(places.values())
        rows.append(
            {
                "line": line,
                "places": list(places.items()),
                "reserved": reserved,
                "shipped": line.quantity_shipped,
                "shortfall": max(line.open_quantity - reserved, 0),
            }
        )
    return rows


def backorder_shortfall() -> dict[int, int]:
    """Units short per product over the orders waiting for stock (ordered and open, less reserved):
    what replenishment should bring (inventory reads it through settings.STOCK_DEMAND_PROVIDER)."""
    waiting_lines = SalesOrderLine.objects.filter(order__status__in=WAITING_FOR_STOCK)
    ordered = dict(
        waiting_lines.order_by()
        .values_list("product")
        .annotate(total=Sum(F("quantity") - F("quantity_shipped") - F("quantity_cancelled")))
    )
    if not ordered:
        return {}
    reserved = dict(
        Reservation.objects.filter(order_line__in=waiting_lines, state=ReservationState.ACTIVE)
        .order_by()
        .values_list("product")
        .annotate(total=Sum("quantity"))
    )
    return {pid: qty - reserved.get(pid, 0) for pid, qty in ordered.items() if qty > reserved.get(pid, 0)}


BEFORE_ALLOCATION = {OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.IN_REVIEW, OrderStatus.REJECTED}

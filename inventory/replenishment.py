"""Replenishment: what to reorder (the proposal), and the request document that orders it from the
supplier and receives it, in one or more deliveries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import ceil

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from config.numbering import next_number

from .errors import InventoryError
from .models import (
    REPLENISHMENT_OPEN,
    Product,
    ReplenishmentLine,
    ReplenishmentRequest,
    ReplenishmentState,
    Reservation,
    ReservationState,
    StockLevel,
    Warehouse,
)
from .services import MAX_MOVEMENT_QUANTITY, stock_receive

MAX_LINES = 500


def proposal_quantity(*, position: int, reorder_point: int, reorder_quantity: int, safety_stock: int) -> int:
    """How much to reorder for a stock position (free stock + still expected from suppliers).

    With a reorder quantity set, order it in whole lots, as many as it takes to lift the position
    above the reorder point (at least one lot); without one, order what brings the position up to
    reorder point + safety stock.
    """
    if reorder_quantity:
        lots = max(1, ceil((reorder_point + 1 - position) / reorder_quantity))
        return lots * reorder_quantity
    return max(reorder_point + safety_stock - position, 0)


def replenishment_proposal(*, warehouse: Warehouse | None = None):
    """Stock rows to reorder: free stock plus what open requests still expect is at or below the
    reorder point, or below safety stock. Each row carries `on_order`, `position` and `proposed`."""
    on_order = (
        ReplenishmentLine.objects.filter(
            request__state__in=REPLENISHMENT_OPEN, request__warehouse=OuterRef("warehouse"), product=OuterRef("product")
        )
        .order_by()
        .values("product")
        .annotate(total=Sum(F("quantity_ordered") - F("quantity_received")))
        .values("total")
    )
    levels = (
        StockLevel.objects.filter(warehouse__is_active=True, product__is_active=True)
        .annotate(on_order=Coalesce(Subquery(on_order, output_field=IntegerField()), 0))
        .annotate(position=F("on_hand") - F("reserved") + F("on_order"))
        .filter(Q(reorder_point__gt=0, position__lte=F("reorder_point")) | Q(position__lt=F("safety_stock")))
        .select_related("product", "warehouse")
        .order_by("warehouse__priority", "warehouse__code", "product__sku")
    )
    if warehouse is not None:
        levels = levels.filter(warehouse=warehouse)
    return levels


def with_proposed_quantities(levels) -> list[StockLevel]:
    """Attach `proposed` (see proposal_quantity) to each row of the proposal."""
    rows = list(levels)
    for level in rows:
        level.proposed = proposal_quantity(
            position=level.position,
            reorder_point=level.reorder_point,
            reorder_quantity=level.reorder_quantity,
            safety_stock=level.safety_stock,
        )
    return [level for level in rows if level.proposed > 0]


def backorder_needs() -> list[dict]:
    """Products that approved and backordered orders are still short of, beyond what open
    requests already bring (four queries): [{product, short, on_order, proposed}]."""
    from orders.models import SalesOrderLine

    from .allocation import WAITING_FOR_STOCK

    waiting_lines = SalesOrderLine.objects.filter(order__status__in=WAITING_FOR_STOCK)
    ordered = dict(waiting_lines.order_by().values_list("product").annotate(total=Sum("quantity")))
    if not ordered:
        return []
    reserved = dict(
        Reservation.objects.filter(order_line__in=waiting_lines, state=ReservationState.ACTIVE)
        .order_by()
        .values_list("product")
        .annotate(total=Sum("quantity"))
    )
    on_order = dict(
        ReplenishmentLine.objects.filter(request__state__in=REPLENISHMENT_OPEN, product__in=list(ordered))
        .order_by()
        .values_list("product")
        .annotate(total=Sum(F("quantity_ordered") - F("quantity_received")))
    )
    short = {pid: qty - reserved.get(pid, 0) for pid, qty in ordered.items() if qty > reserved.get(pid, 0)}
    products = Product.objects.in_bulk(list(short))
    needs = [
        {"product": products[pid], "short": qty, "on_order": on_order.get(pid, 0), "proposed": qty - on_order.get(pid, 0)}
        for pid, qty in short.items()
    ]
    return sorted((n for n in needs if n["proposed"] > 0), key=lambda n: n["product"].sku)


def main_warehouse() -> Warehouse | None:
    """Where goods for waiting orders are ordered to: the active warehouse allocated from first."""
    return Warehouse.objects.filter(is_active=True).order_by("priority", "code").first()


def replenishment_next_number() -> str:
    """RP-<year>-<6 digits> from the year's locked counter."""
    year = timezone.localdate().year
    return f"RP-{year}-{next_number('replenishment', year):06d}"


@transaction.atomic
def replenishment_create(
    *,
    warehouse: Warehouse,
    quantities: Mapping[Product, int],
    by,
    supplier: str = "",
    note: str = "",
) -> ReplenishmentRequest:
    """A draft request for one warehouse; each product once, each quantity positive."""
    if not warehouse.is_active:
        raise InventoryError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code})
    items = [(product, qty) for product, qty in quantities.items() if qty]
    if not items:
        raise InventoryError(_("A replenishment request needs at least one product."))
    if len(items) > MAX_LINES:
        raise InventoryError(_("A replenishment request may have at most %(max)s lines.") % {"max": MAX_LINES})
    for product, qty in items:
        if qty < 0 or qty > MAX_MOVEMENT_QUANTITY:
            raise InventoryError(
                _("%(sku)s: the quantity must be between 1 and %(max)s.") % {"sku": product.sku, "max": MAX_MOVEMENT_QUANTITY}
            )
    request = ReplenishmentRequest.objects.create(
        number=replenishment_next_number(),
        warehouse=warehouse,
        supplier=supplier.strip(),
        note=note.strip(),
        created_by=by,
    )
    ReplenishmentLine.objects.bulk_create(
        [
            ReplenishmentLine(request=request, product=product, quantity_ordered=qty)
            for product, qty in sorted(items, key=lambda i: i[0].sku)
        ]
    )
    return request


@transaction.atomic
def replenishment_create_from_proposal(*, warehouse: Warehouse, by, supplier: str = "") -> ReplenishmentRequest:
    """A draft request with every line the proposal suggests for the warehouse; the main warehouse
    also orders what waiting orders are short of."""
    quantities: dict[Product, int] = {}
    for row in with_proposed_quantities(replenishment_proposal(warehouse=warehouse)):
        quantities[row.product] = row.proposed
    main = main_warehouse()
    if main is not None and main.pk == warehouse.pk:
        for need in backorder_needs():
            quantities[need["product"]] = quantities.get(need["product"], 0) + need["proposed"]
    if not quantities:
        raise InventoryError(_("Nothing needs reordering in %(code)s.") % {"code": warehouse.code})
    return replenishment_create(
        warehouse=warehouse,
        quantities=quantities,
        by=by,
        supplier=supplier,
        note=_("From the replenishment proposal."),
    )


def _apply(*, request: ReplenishmentRequest, transition: Callable, by) -> ReplenishmentRequest:
    locked = ReplenishmentRequest.objects.select_for_update().get(pk=request.pk)
    method = transition(locked)
    if not can_proceed(method):
        raise InventoryError(
            _("Request %(number)s cannot do that while it is %(state)s.")
            % {"number": locked.number, "state": locked.get_state_display()}
        )
    if by is not None and not has_transition_perm(method, by):
        raise InventoryError(_("You are not allowed to do that with this request."))
    method()
    return locked


@transaction.atomic
def replenishment_place(*, request: ReplenishmentRequest, by) -> ReplenishmentRequest:
    """A draft is sent to the supplier: from now on its quantities count as on order."""
    locked = _apply(request=request, transition=lambda r: r.place, by=by)
    if not locked.lines.exists():
        raise InventoryError(_("A replenishment request needs at least one product."))
    locked.ordered_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def replenishment_cancel(*, request: ReplenishmentRequest, by) -> ReplenishmentRequest:
    """A request nothing was received for may be cancelled."""
    locked = _apply(request=request, transition=lambda r: r.cancel, by=by)
    locked.save()
    return locked


@transaction.atomic
def replenishment_receive(
    *,
    request: ReplenishmentRequest,
    quantities: Mapping[int, int],
    by,
    reference: str = "",
) -> ReplenishmentRequest:
    """A delivery for the request: receipt movements for what arrived (never more than is still
    outstanding per line), partially received until every line is complete."""
    locked = ReplenishmentRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state not in (ReplenishmentState.ORDERED, ReplenishmentState.PARTIALLY_RECEIVED):
        raise InventoryError(
            _("Request %(number)s cannot receive goods while it is %(state)s.")
            % {"number": locked.number, "state": locked.get_state_display()}
        )
    lines = {line.pk: line for line in locked.lines.select_related("product")}
    arrived: dict[Product, int] = {}
    for line_id, qty in quantities.items():
        if not qty:
            continue
        line = lines.get(line_id)
        if line is None:
            raise InventoryError(_("That line does not belong to request %(number)s.") % {"number": locked.number})
        if qty < 0 or qty > line.outstanding:
            raise InventoryError(
                _("%(sku)s: between 1 and %(max)s are still expected.") % {"sku": line.product.sku, "max": line.outstanding}
            )
        line.quantity_received += qty
        arrived[line.product] = qty
    if not arrived:
        raise InventoryError(_("Enter the quantity that arrived for at least one line."))
    stock_receive(warehouse=locked.warehouse, quantities=arrived, reference=reference, by=by, document=locked.number)
    ReplenishmentLine.objects.bulk_update(list(lines.values()), ["quantity_received"])
    complete = all(line.outstanding == 0 for line in lines.values())
    step = (lambda r: r.receive_rest) if complete else (lambda r: r.receive_part)
    locked = _apply(request=locked, transition=step, by=by)
    if complete:
        locked.received_at = timezone.now()
    locked.save()
    return locked

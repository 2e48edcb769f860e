"""Allocation: reserving stock for approved orders, and giving it back when an order is cancelled.

Stock rows are locked in primary-key order before availability is read (never SKIP LOCKED), so
two allocations can neither oversell nor deadlock; reserved moves in one UPDATE per allocation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.errors import OrderError
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.services import order_apply_transition, order_lock, order_log

from .errors import InventoryError
from .models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement
from .services import queue_low_stock_check, stock_levels_lock, stock_post_movement, stock_shift_reserved

# Orders that wait for stock: allocation picks them up, oldest approval first.
WAITING_FOR_STOCK = [OrderStatus.APPROVED, OrderStatus.BACKORDERED]


@dataclass
class AllocationRun:
    """What one run over the waiting orders did."""

    allocated: list[SalesOrder] = field(default_factory=list)
    backordered: list[SalesOrder] = field(default_factory=list)
    failed: list[tuple[SalesOrder, str]] = field(default_factory=list)


def waiting_orders(*, product_ids=None):
    """Approved and backordered orders, first approved first (the order stock is handed out in)."""
    orders = SalesOrder.objects.filter(status__in=WAITING_FOR_STOCK)
    if product_ids is not None:
        orders = orders.filter(lines__product_id__in=list(product_ids)).distinct()
    return orders.order_by(F("approved_at").asc(nulls_last=True), "pk")


def _plan(*, needed: dict[int, int], levels: list[StockLevel]) -> dict[int, list[tuple[StockLevel, int]]]:
    """Per product, (stock row, quantity) to reserve: the first warehouse by priority that can serve
    every missing quantity in full, else each product split over the warehouses by priority."""
    by_warehouse: dict[int, dict[int, StockLevel]] = defaultdict(dict)
    warehouses = {}
    for level in levels:
        by_warehouse[level.warehouse_id][level.product_id] = level
        warehouses[level.warehouse_id] = level.warehouse
    ranked = sorted(warehouses.values(), key=lambda w: (w.priority, w.code, w.pk))
    for warehouse in ranked:
        rows = by_warehouse[warehouse.pk]
        if all(pid in rows and rows[pid].available >= qty for pid, qty in needed.items()):
            return {pid: [(rows[pid], qty)] for pid, qty in needed.items()}
    plan: dict[int, list[tuple[StockLevel, int]]] = {}
    for pid, qty in needed.items():
        takes = []
        remaining = qty
        for warehouse in ranked:
            level = by_warehouse[warehouse.pk].get(pid)
            if remaining and level is not None and level.available > 0:
                take = min(level.available, remaining)
                takes.append((level, take))
                remaining -= take
        plan[pid] = takes
    return plan


def _describe(reserved: dict[tuple[int, str, str], int], shortfall: dict[str, int]) -> str:
    """The timeline note: what was reserved where (warehouses by priority) and what is short."""
    parts = []
    by_warehouse: dict[str, list[str]] = defaultdict(list)
    for (_priority, code, sku), qty in sorted(reserved.items()):
        by_warehouse[code].append(f"{qty} × {sku}")
    for code, items in by_warehouse.items():
        parts.append(_("Reserved in %(warehouse)s: %(items)s.") % {"warehouse": code, "items": ", ".join(items)})
    if shortfall:
        items = ", ".join(f"{qty} × {sku}" for sku, qty in sorted(shortfall.items()))
        parts.append(_("Short (backordered): %(items)s.") % {"items": items})
    return " ".join(parts)


@transaction.atomic
def allocation_allocate_order(*, order: SalesOrder, by=None) -> SalesOrder:
    """Reserve what each line still misses (one warehouse when one can serve it all, else split by
    priority); fully reserved → allocated, otherwise backordered. Running it again changes nothing."""
    locked = order_lock(order_id=order.pk)
    if locked.status not in WAITING_FOR_STOCK:
        return locked
    lines = list(locked.lines.select_related("product").order_by("position", "pk"))
    held = dict(
        Reservation.objects.filter(order_line__order=locked, state=ReservationState.ACTIVE)
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "total")
    )
    missing = {line.pk: line.quantity - held.get(line.pk, 0) for line in lines}
    needed: dict[int, int] = defaultdict(int)
    for line in lines:
        if missing[line.pk] > 0:
            needed[line.product_id] += missing[line.pk]
    levels = []
    if needed:
        levels = list(
            StockLevel.objects.filter(product_id__in=list(needed), warehouse__is_active=True)
            .select_related("warehouse")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
    plan = _plan(needed=dict(needed), levels=levels)

    reservations: list[Reservation] = []
    deltas: dict[int, int] = defaultdict(int)
    reserved_note: dict[tuple[int, str, str], int] = defaultdict(int)
    shortfall: dict[str, int] = defaultdict(int)
    for line in lines:
        remaining = max(missing[line.pk], 0)
        takes = plan.get(line.product_id, [])
        while remaining and takes:
            level, available = takes[0]
            take = min(available, remaining)
            reservations.append(
                Reservation(order_line=line, product_id=line.product_id, warehouse_id=level.warehouse_id, quantity=take)
            )
            deltas[level.pk] += take
            reserved_note[(level.warehouse.priority, level.warehouse.code, line.product.sku)] += take
            remaining -= take
            if take == available:
                takes.pop(0)
            else:
                takes[0] = (level, available - take)
        if remaining:
            shortfall[line.product.sku] += remaining

    Reservation.objects.bulk_create(reservations)
    stock_shift_reserved(deltas=deltas)
    target = OrderStatus.BACKORDERED if shortfall else OrderStatus.ALLOCATED
    if not reservations and target == locked.status:
        return locked  # nothing arrived for it since the last run
    order_log(order=locked, kind=OrderEvent.Kind.ALLOCATION, by=by, note=_describe(reserved_note, shortfall))
    if target != locked.status:
        step = (lambda o: o.backorder) if target == OrderStatus.BACKORDERED else (lambda o: o.allocate)
        locked = order_apply_transition(order=locked, transition=step, by=by)
    queue_low_stock_check(level_ids=deltas)
    return locked


def allocation_allocate_waiting(*, by=None, product_ids=None) -> AllocationRun:
    """Allocate every waiting order (or those needing these products), oldest approval first, each
    in its own transaction so one order's trouble does not hold up the others."""
    run = AllocationRun()
    for order in list(waiting_orders(product_ids=product_ids)):
        try:
            result = allocation_allocate_order(order=order, by=by)
        except OrderError as error:
            run.failed.append((order, str(error)))
            continue
        if result.status == OrderStatus.ALLOCATED:
            run.allocated.append(result)
        elif result.status == OrderStatus.BACKORDERED:
            run.backordered.append(result)
    return run


@transaction.atomic
def reservation_release_for_order(*, order: SalesOrder, by=None) -> int:
    """Every active reservation of the order goes back to free stock (cancellation); returns the units freed."""
    reservations = list(
        Reservation.objects.filter(order_line__order_id=order.pk, state=ReservationState.ACTIVE)
        .select_related("product", "warehouse")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    if not reservations:
        return 0
    match = Q()
    for reservation in reservations:
        match |= Q(product_id=reservation.product_id, warehouse_id=reservation.warehouse_id)
    levels = {
        (level.product_id, level.warehouse_id): level
        for level in StockLevel.objects.filter(match).order_by("pk").select_for_update()
    }
    deltas: dict[int, int] = defaultdict(int)
    released: dict[tuple[str, str], int] = defaultdict(int)
    now = timezone.now()
    for reservation in reservations:
        reservation.release()
        reservation.updated_at = now
        deltas[levels[(reservation.product_id, reservation.warehouse_id)].pk] -= reservation.quantity
        released[(reservation.warehouse.code, reservation.product.sku)] += reservation.quantity
    Reservation.objects.bulk_update(reservations, ["state", "updated_at"])
    stock_shift_reserved(deltas=deltas)
    items = ", ".join(f"{code}: {qty} × {sku}" for (code, sku), qty in sorted(released.items()))
    order_log(order=order, kind=OrderEvent.Kind.ALLOCATION, by=by, note=_("Reservations released: %(items)s.") % {"items": items})
    queue_low_stock_check(level_ids=deltas)
    # The freed stock may serve orders that wait for it.
    from .services import queue_backorder_allocation

    queue_backorder_allocation(product_ids={reservation.product_id for reservation in reservations})
    return sum(reservation.quantity for reservation in reservations)


@transaction.atomic
def reservation_consume_for_shipment(
    *,
    order: SalesOrder,
    quantities: Mapping[int, int],
    by=None,
    document: str = "",
) -> list[StockMovement]:
    """A shipment takes reserved goods out: per order line (id → quantity) the line's active
    reservations are consumed (warehouse by warehouse, a partly used one split), reserved and on
    hand drop together and one shipment movement is posted per product and warehouse."""
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty}
    if any(qty < 0 for qty in quantities.values()):
        raise InventoryError(_("A shipped quantity cannot be negative."))
    reservations = list(
        Reservation.objects.filter(
            order_line__order_id=order.pk, order_line_id__in=list(quantities), state=ReservationState.ACTIVE
        )
        .select_related("product", "warehouse", "order_line")
        .order_by("warehouse__priority", "pk")
        .select_for_update(of=("self",))
    )
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        by_line[reservation.order_line_id].append(reservation)
    consumed: list[Reservation] = []
    remainders: list[Reservation] = []
    shipped: dict[tuple[int, int], int] = defaultdict(int)
    for line_id, wanted in quantities.items():
        held = sum(r.quantity for r in by_line[line_id])
        if wanted > held:
            raise InventoryError(
                _("Only %(held)s of that line are reserved; %(wanted)s cannot ship.") % {"held": held, "wanted": wanted}
            )
        for reservation in by_line[line_id]:
            if not wanted:
                break
            take = min(wanted, reservation.quantity)
            if take < reservation.quantity:
                remainders.append(
                    Reservation(
                        order_line_id=line_id,
                        product_id=reservation.product_id,
                        warehouse_id=reservation.warehouse_id,
                        quantity=reservation.quantity - take,
                    )
                )
                reservation.quantity = take
            reservation.consume()
            consumed.append(reservation)
            shipped[(reservation.product_id, reservation.warehouse_id)] += take
            wanted -= take
    if not consumed:
        raise InventoryError(_("Nothing to ship."))
    levels = stock_levels_lock(pairs=shipped)
    now = timezone.now()
    for reservation in consumed:
        reservation.updated_at = now
    Reservation.objects.bulk_update(consumed, ["state", "quantity", "updated_at"])
    Reservation.objects.bulk_create(remainders)
    stock_shift_reserved(deltas={levels[pair].pk: -qty for pair, qty in shipped.items()})
    warehouses = {r.warehouse_id: r.warehouse for r in consumed}
    products = {r.product_id: r.product for r in consumed}
    return [
        stock_post_movement(
            product=products[product_id],
            warehouse=warehouses[warehouse_id],
            kind=MovementKind.SHIPMENT,
            quantity=-qty,
            reason=_("Shipment of order %(number)s") % {"number": order.number},
            document=document or order.number,
            by=by,
        )
        for (product_id, warehouse_id), qty in sorted(shipped.items())
    ]

"""Stock primitives for the layers above: reserve, release and consume stock for demand lines.

They take plain data (demand line ids, product ids, quantities) and know nothing of orders; the
order side (which orders wait, their states and timelines) lives in orders.fulfilment.
Stock rows are locked in primary-key order before availability is read (never SKIP LOCKED), so
two allocations can neither oversell nor deadlock; reserved moves in one UPDATE per call.
Lock order (DESIGN): the document row (the caller's) → reservations → stock levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.errors import DomainError
from config.rows import hot_cursor, rows_insert_few, rows_select, sql_in
from config.transitions import transitions_fire
from inventory.models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement
from inventory.stock.alerts import low_stock_raise
from inventory.stock.services import (
    queue_backorder_allocation,
    queue_low_stock_check,
    stock_levels_lock,
    stock_post_movements_locked,
    stock_shift_reserved,
)


@dataclass(frozen=True)
class Demand:
    """Units still to reserve for one demand line (an order line's id)."""

    line_id: int
    product_id: int
    quantity: int


@dataclass
class ReserveResult:
    """What one stock_reserve call did: per line, (warehouse code, units) reserved, and units short."""

    reserved: dict[int, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    short: dict[int, int] = field(default_factory=dict)

    @property
    def reserved_any(self) -> bool:
        return any(self.reserved.values())


def reservations_held(*, line_ids: Iterable[int]) -> dict[int, int]:
    """Units actively reserved per line."""
    line_ids = list(line_ids)
    if not line_ids:
        return {}
    # Raw SQL, prepared (config.rows.hot_cursor): every allocation reads it.
    matching, params = sql_in(line_ids)
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT order_line_id, SUM(quantity) FROM {Reservation._meta.db_table}"
            f" WHERE order_line_id {matching} AND state = %s GROUP BY order_line_id",
            [*params, ReservationState.ACTIVE.value],
        )
        return dict(cursor.fetchall())


def _plan(*, needed: dict[int, int], levels: list[StockLevel]) -> dict[int, list[list]]:
    """Per product, [stock row, units] to reserve: the first warehouse by priority that can serve
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
            return {pid: [[rows[pid], qty]] for pid, qty in needed.items()}
    plan: dict[int, list[list]] = {}
    for pid, qty in needed.items():
        takes = []
        remaining = qty
        for warehouse in ranked:
            level = by_warehouse[warehouse.pk].get(pid)
            if remaining and level is not None and level.available > 0:
                take = min(level.available, remaining)
                takes.append([level, take])
                remaining -= take
        plan[pid] = takes
    return plan


# No savepoint of its own: it is called inside its callers' transactions, and no caller goes on after it fails.
@transaction.atomic(savepoint=False)
def stock_reserve(*, demand: list[Demand]) -> ReserveResult:
    """Reserve what each demand line asks for: from one warehouse when one can serve it all, else
    split over the warehouses by priority; what no warehouse has is reported short."""
    result = ReserveResult()
    demand = [d for d in demand if d.quantity > 0]
    if not demand:
        return result
    needed: dict[int, int] = defaultdict(int)
    for d in demand:
        needed[d.product_id] += d.quantity
    # The stock rows locked in primary-key order (the lock order), with their warehouses: one statement built once.
    matching, params = sql_in(list(needed))
    levels = rows_select(
        StockLevel,
        f"t0.product_id {matching} AND t1.is_active",
        params,
        related=("warehouse",),
        tail=" ORDER BY t0.id",
        lock=True,
    )
    plan = _plan(needed=dict(needed), levels=levels)
    reservations: list[Reservation] = []
    deltas: dict[int, int] = defaultdict(int)
    for d in demand:
        remaining = d.quantity
        takes = plan.get(d.product_id, [])
        while remaining and takes:
            level, available = takes[0]
            take = min(available, remaining)
            reservations.append(
                Reservation(order_line_id=d.line_id, product_id=d.product_id, warehouse_id=level.warehouse_id, quantity=take)
            )
            deltas[level.pk] += take
            result.reserved[d.line_id].append((level.warehouse.code, take))
            remaining -= take
            if take == available:
                takes.pop(0)
            else:
                takes[0][1] = available - take
        if remaining:
            result.short[d.line_id] = remaining
    rows_insert_few(reservations)
    stock_shift_reserved(deltas=deltas)
    # The rows are locked and their figures known: alerts are raised here, in this transaction
    # (a reservation only lowers free stock, so none can be resolved by it).
    low_stock_raise(
        levels=[
            (level.product_id, level.warehouse_id, level.on_hand, level.reserved + deltas[level.pk], level.safety_stock)
            for level in levels
            if level.pk in deltas
        ]
    )
    return result


@transaction.atomic
def stock_release(*, line_ids: Iterable[int], by) -> dict[int, list[tuple[str, int]]]:
    """Every active reservation of these lines goes back to free stock; per line, (warehouse code,
    units) freed. Freed stock is offered to whoever waits for it (an outbox event)."""
    actor = Actor.of(by)
    reservations = list(
        Reservation.objects.filter(order_line_id__in=list(line_ids), state=ReservationState.ACTIVE)
        .select_related("warehouse")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    if not reservations:
        return {}
    levels = stock_levels_lock(pairs={(r.product_id, r.warehouse_id) for r in reservations})
    deltas: dict[int, int] = defaultdict(int)
    released: dict[int, list[tuple[str, int]]] = defaultdict(list)
    now = timezone.now()
    transitions_fire(objs=reservations, transition="release", actor=actor)
    for reservation in reservations:
        reservation.updated_at = now
        deltas[levels[(reservation.product_id, reservation.warehouse_id)].pk] -= reservation.quantity
        released[reservation.order_line_id].append((reservation.warehouse.code, reservation.quantity))
    Reservation.objects.bulk_update(reservations, ["state", "updated_at"])
    stock_shift_reserved(deltas=deltas)
    queue_low_stock_check(level_ids=deltas)
    queue_backorder_allocation(product_ids={r.product_id for r in reservations})
    return dict(released)


@transaction.atomic
def stock_release_quantities(*, quantities: Mapping[int, int], warehouse_id: int, by) -> dict[int, list[tuple[str, int]]]:
    """Release so many units of each line's active reservations in one warehouse (a partly released
    one is split); per line, (warehouse code, units) freed. For stock reserved beyond a line's own
    need (a replacement that will not ship); refused, with nothing changed, if a line holds fewer."""
    actor = Actor.of(by)
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty}
    if any(qty < 0 for qty in quantities.values()):
        raise DomainError(_("A released quantity cannot be negative."), code="negative_quantity")
    reservations = list(
        Reservation.objects.filter(order_line_id__in=list(quantities), warehouse_id=warehouse_id, state=ReservationState.ACTIVE)
        .select_related("warehouse")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        by_line[reservation.order_line_id].append(reservation)
    released_rows: list[Reservation] = []
    remainders: list[Reservation] = []
    freed: dict[tuple[int, int], int] = defaultdict(int)
    released: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for line_id, wanted in quantities.items():
        held = sum(r.quantity for r in by_line[line_id])
        if wanted > held:
            raise DomainError(
                _("Only %(held)s of that line are reserved; %(wanted)s cannot be released.") % {"held": held, "wanted": wanted},
                code="not_reserved",
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
            released_rows.append(reservation)
            freed[(reservation.product_id, reservation.warehouse_id)] += take
            released[line_id].append((reservation.warehouse.code, take))
            wanted -= take
    if not released_rows:
        return {}
    transitions_fire(objs=released_rows, transition="release", actor=actor)
    levels = stock_levels_lock(pairs=freed)
    now = timezone.now()
    for reservation in released_rows:
        reservation.updated_at = now
    Reservation.objects.bulk_update(released_rows, ["state", "quantity", "updated_at"])
    Reservation.objects.bulk_create(remainders)
    deltas = {levels[pair].pk: -qty for pair, qty in freed.items()}
    stock_shift_reserved(deltas=deltas)
    queue_low_stock_check(level_ids=deltas)
    queue_backorder_allocation(product_ids={product_id for product_id, _w in freed})
    return dict(released)


@transaction.atomic
def stock_consume(
    *, quantities: Mapping[int, int], document: str, by: Actor | object, warehouse_id: int | None = None
) -> list[StockMovement]:
    """Goods leave against their reservations: per demand line (id → units) the line's active
    reservations are consumed (warehouse by warehouse, a partly used one split; only those in
    `warehouse_id` when the goods leave from that one), reserved and on hand drop together, and one
    shipment movement is posted per product and warehouse, at the product's cost of the moment."""
    actor = Actor.of(by)
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty}
    if any(qty < 0 for qty in quantities.values()):
        raise DomainError(_("A shipped quantity cannot be negative."), code="negative_quantity")
    reservations = Reservation.objects.filter(order_line_id__in=list(quantities), state=ReservationState.ACTIVE)
    if warehouse_id is not None:
        reservations = reservations.filter(warehouse_id=warehouse_id)
    reservations = list(
        reservations.select_related("product", "warehouse").order_by("warehouse__priority", "pk").select_for_update(of=("self",))
    )
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        by_line[reservation.order_line_id].append(reservation)
    consumed: list[Reservation] = []
    remainders: list[Reservation] = []
    shipped: dict[tuple[int, int], int] = defaultdict(int)
    # The cost the goods leave at: the product's cost now (the margin report reads it from the ledger).
    costs = {reservation.product_id: reservation.product.cost for reservation in reservations}
    for line_id, wanted in quantities.items():
        held = sum(r.quantity for r in by_line[line_id])
        if wanted > held:
            raise DomainError(
                _("Only %(held)s of that line are reserved; %(wanted)s cannot ship.") % {"held": held, "wanted": wanted},
                code="not_reserved",
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
            consumed.append(reservation)
            shipped[(reservation.product_id, reservation.warehouse_id)] += take
            wanted -= take
    if not consumed:
        raise DomainError(_("Nothing to ship."), code="nothing_to_ship")
    transitions_fire(objs=consumed, transition="consume", actor=actor)
    levels = stock_levels_lock(pairs=shipped)
    now = timezone.now()
    for reservation in consumed:
        reservation.updated_at = now
    Reservation.objects.bulk_update(consumed, ["state", "quantity", "updated_at"])
    Reservation.objects.bulk_create(remainders)
    stock_shift_reserved(deltas={levels[pair].pk: -qty for pair, qty in shipped.items()})
    # One UPDATE of on hand and one INSERT into the ledger, whatever the number of lines.
    return stock_post_movements_locked(
        movements=[
            StockMovement(
                product_id=product_id,
                warehouse_id=warehouse_id,
                kind=MovementKind.SHIPMENT,
                quantity=-qty,
                reason=gettext_noop("Shipment %(document)s"),
                params={"document": document},
                document=document,
                created_by=actor.user_or_none,
                unit_cost=costs[product_id],
            )
            for (product_id, warehouse_id), qty in sorted(shipped.items())
        ],
        levels=levels,
    )


def reservations_by_line(*, line_ids: Iterable[int]) -> dict[int, list[Reservation]]:
    """Active and consumed reservations per line, warehouses by priority (for the order page)."""
    by_line: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in (
        Reservation.objects.filter(order_line_id__in=list(line_ids))
        .exclude(state=ReservationState.RELEASED)
        .select_related("warehouse")
        .order_by("warehouse__priority", "warehouse__code", "pk")
    ):
        by_line[reservation.order_line_id].append(reservation)
    return by_line

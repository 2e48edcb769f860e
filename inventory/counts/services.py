"""Every write of a stock count (盘点), and the reads its pages share.

The rule for what a count posts: a counted quantity is the physical truth at the moment it was
entered. Its variance is counted − the system's on hand at that moment (kept on the line as
`on_hand_at_count`). Movements between opening and the entry are therefore inside the count
(expected 10 at opening, 3 shipped, counted 7 → no adjustment; counted 6 → −1), and movements
after the entry are not (counted 7 at on hand 10, then 2 shipped → −3 is posted, on hand ends
at 5). With no movement after the entry this is simply counted − current on hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django_fsm import can_proceed

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.money import ZERO, round_money
from config.numbering import document_number
from config.outbox import outbox_publish
from config.transitions import transition_apply, transitions_fire
from inventory.counts.models import COUNT_ACTIVE, MAX_COUNTED_QUANTITY, StockCount, StockCountEvent, StockCountLine
from inventory.models import MovementKind, Product, Reservation, ReservationState, StockLevel, StockMovement, Warehouse
from inventory.stock.selectors import product_by_code
from inventory.stock.services import queue_backorder_allocation, stock_levels_lock, stock_post_movement, stock_shift_reserved

Kind = StockCountEvent.Kind


def _require_counter(actor: Actor) -> None:
    if not actor.has_perm("inventory.count_stock"):
        raise PermissionRefused(_("You are not allowed to count stock."))


def stock_count_lock(*, count_id: int) -> StockCount:
    """Re-read the count under a row lock before acting on it."""
    return StockCount.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=count_id)


def stock_count_products(
    *, warehouse: Warehouse, sku_prefix: str = "", search: str = "", only_in_stock: bool = False
) -> QuerySet[Product]:
    """Products a count with this scope covers: active ones, and any with stock in the warehouse."""
    in_warehouse = Q(stock_levels__warehouse=warehouse, stock_levels__on_hand__gt=0)
    products = Product.objects.filter(in_warehouse) if only_in_stock else Product.objects.filter(Q(is_active=True) | in_warehouse)
    if sku_prefix:
        products = products.filter(sku__istartswith=sku_prefix)
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search) | Q(barcode__icontains=search))
    return products.distinct().order_by("sku")


@transaction.atomic
def stock_count_open(
    *,
    warehouse: Warehouse,
    by: Actor | Any,
    sku_prefix: str = "",
    search: str = "",
    only_in_stock: bool = False,
    note: str = "",
) -> StockCount:
    """Open a count: snapshot each product's on hand and the ledger position; a product is on one open count at a time."""
    actor = Actor.of(by)
    _require_counter(actor)
    # Serialise openings per warehouse, so two overlapping counts cannot both pass the check below.
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    if not warehouse.is_active:
        raise DomainError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code}, "warehouse_inactive")
    sku_prefix, search = sku_prefix.strip(), search.strip()
    # The ledger position is read before the quantities: a movement committed in between shows as
    # "moved since opening" (a harmless warning), never as a wrong adjustment.
    ledger_position = StockMovement.objects.aggregate(last=Max("pk"))["last"] or 0
    products = list(
        stock_count_products(warehouse=warehouse, sku_prefix=sku_prefix, search=search, only_in_stock=only_in_stock).values_list(
            "pk", "cost"
        )
    )
    if not products:
        raise DomainError(_("No product matches this scope: there is nothing to count."), "nothing_to_count")
    product_ids = [pk for pk, _cost in products]
    overlapping = (
        StockCount.objects.filter(warehouse=warehouse, state__in=COUNT_ACTIVE, lines__product_id__in=product_ids)
        .distinct()
        .values_list("number", flat=True)
    )
    if overlapping:
        raise DomainError(
            _("Some of these products are already on count %(numbers)s in this warehouse; post or cancel it first.")
            % {"numbers": ", ".join(sorted(overlapping))},
            "already_counting",
        )
    on_hand = dict(
        StockLevel.objects.filter(warehouse=warehouse, product_id__in=product_ids).values_list("product_id", "on_hand")
    )
    count = StockCount.objects.create(
        number=document_number("stock_count"),
        warehouse=warehouse,
        sku_prefix=sku_prefix,
        search=search,
        only_in_stock=only_in_stock,
        note=note.strip(),
        ledger_position=ledger_position,
        line_count=len(products),
        opened_by=actor.user_or_none,
    )
    StockCountLine.objects.bulk_create(
        StockCountLine(count=count, product_id=pk, expected_quantity=on_hand.get(pk, 0), unit_cost=cost) for pk, cost in products
    )
    StockCountEvent.record(count, kind=Kind.CREATED, actor=actor, params={"lines": len(products)}, to_state=count.state)
    return count


def _validate_counted(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(_("A counted quantity is a whole number."), "invalid_quantity")
    if value < 0:
        raise DomainError(_("A counted quantity cannot be negative."), "invalid_quantity")
    if value > MAX_COUNTED_QUANTITY:
        raise DomainError(_("%(qty)s is more than can be counted on one line.") % {"qty": value}, "invalid_quantity")


def _refuse_unless_active(count: StockCount) -> None:
    if not count.is_active:
        raise DomainError(
            _("Count %(number)s is %(state)s, so its quantities can no longer change.")
            % {"number": count.number, "state": count.get_state_display()},
            "count_closed",
        )


@transaction.atomic
def stock_count_record(*, count: StockCount, quantities: dict[int, int | None], by: Actor | Any) -> StockCount:
    """Save counted quantities by line id (None clears a line); each keeps the system's on hand at entry."""
    actor = Actor.of(by)
    _require_counter(actor)
    locked = stock_count_lock(count_id=count.pk)
    _refuse_unless_active(locked)
    for value in quantities.values():
        if value is not None:
            _validate_counted(value)
    lines = {line.pk: line for line in locked.lines.filter(pk__in=list(quantities))}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise DomainError(_("Some lines do not belong to count %(number)s.") % {"number": locked.number}, "unknown_line")
    changed = [line for pk, line in lines.items() if line.counted_quantity != quantities[pk]]
    if not changed:
        return locked
    if any(quantities[line.pk] is not None for line in changed) and can_proceed(locked.start_counting):
        locked = transition_apply(
            obj=locked, transition="start_counting", actor=actor, kind=Kind.START_COUNTING, lock=False, update_fields=[]
        )
    on_hand = dict(
        StockLevel.objects.filter(
            warehouse=locked.warehouse_id, product_id__in=[line.product_id for line in changed]
        ).values_list("product_id", "on_hand")
    )
    now = timezone.now()
    for line in changed:
        value = quantities[line.pk]
        line.counted_quantity = value
        line.on_hand_at_count = None if value is None else on_hand.get(line.product_id, 0)
        line.counted_by = None if value is None else actor.user_or_none
        line.counted_at = None if value is None else now
    StockCountLine.objects.bulk_update(changed, ["counted_quantity", "on_hand_at_count", "counted_by", "counted_at"])
    return locked


@dataclass
class ScanResult:
    line: StockCountLine
    product: Product


@transaction.atomic
def stock_count_scan(*, count: StockCount, code: str, by: Actor | Any) -> ScanResult:
    """A scanned barcode (or typed SKU) adds one to that product's counted quantity."""
    actor = Actor.of(by)
    _require_counter(actor)
    code = (code or "").strip()
    if not code:
        raise DomainError(_("Scan a barcode or type a SKU."), "no_code")
    product = product_by_code(code=code[:48])
    if product is None:
        raise DomainError(_("No product has the barcode or SKU “%(code)s”.") % {"code": code[:48]}, "unknown_product")
    locked = stock_count_lock(count_id=count.pk)
    _refuse_unless_active(locked)
    line = locked.lines.select_for_update().filter(product=product).first()
    if line is None:
        raise DomainError(
            _("%(sku)s %(name)s is not on count %(number)s (%(scope)s).")
            % {"sku": product.sku, "name": product.name, "number": locked.number, "scope": locked.scope_text},
            "not_on_count",
        )
    stock_count_record(count=locked, quantities={line.pk: (line.counted_quantity or 0) + 1}, by=actor)
    line.refresh_from_db()
    return ScanResult(line=line, product=product)


@dataclass
class ReleasedReservations:
    """What a count that found less than was reserved took back from orders."""

    order_line_ids: list[int]
    units: dict[int, int]  # product id → units released


def _lock_reservations(*, warehouse_id: int, product_ids: Iterable[int]) -> list[Reservation]:
    """The active reservations of these products in the warehouse, locked in primary-key order."""
    return list(
        Reservation.objects.filter(warehouse_id=warehouse_id, product_id__in=list(product_ids), state=ReservationState.ACTIVE)
        .order_by("pk")
        .select_for_update()
    )


def _release_beyond_on_hand(
    *,
    count: StockCount,
    shortfalls: dict[int, int],
    reservations: list[Reservation],
    levels: dict[tuple[int, int], StockLevel],
    actor: Actor,
) -> ReleasedReservations:
    """Release the reservations of each product beyond its new on hand, newest reservation first
    (the most recently approved order loses first); a reservation partly beyond keeps the rest.

    `shortfalls` is product id → units the count takes out; the reservations and then the stock
    rows are already locked (DESIGN lock order: document → reservations → stock levels).
    Reserved moves down by what is released, and the orders hear of it through the outbox.
    """
    newest_first: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in sorted(reservations, key=lambda r: (r.created_at, r.pk), reverse=True):
        newest_first[reservation.product_id].append(reservation)
    released: list[Reservation] = []
    shrunk: list[Reservation] = []
    split_off: list[Reservation] = []
    deltas: dict[int, int] = {}
    units: dict[int, int] = {}
    line_ids: set[int] = set()
    for product_id, taken_out in sorted(shortfalls.items()):
        level = levels[(product_id, count.warehouse_id)]
        excess = level.reserved - (level.on_hand - taken_out)
        if excess <= 0:
            continue
        freed = 0
        for reservation in newest_first[product_id]:
            if freed >= excess:
                break
            take = min(reservation.quantity, excess - freed)
            if take == reservation.quantity:
                released.append(reservation)
            else:
                # Only part of it is beyond what is left: the order keeps the rest of its reservation.
                reservation.quantity -= take
                shrunk.append(reservation)
                part = Reservation(
                    order_line_id=reservation.order_line_id,
                    product_id=product_id,
                    warehouse_id=count.warehouse_id,
                    quantity=take,
                )
                split_off.append(part)
            freed += take
            line_ids.add(reservation.order_line_id)
        if freed:
            deltas[level.pk] = -freed
            units[product_id] = freed
    if not units:
        return ReleasedReservations(order_line_ids=[], units={})
    transitions_fire(objs=released + split_off, transition="release", actor=actor)
    now = timezone.now()
    for reservation in released + shrunk:
        reservation.updated_at = now
    Reservation.objects.bulk_update(released, ["state", "updated_at"])
    Reservation.objects.bulk_update(shrunk, ["quantity", "updated_at"])
    Reservation.objects.bulk_create(split_off)
    stock_shift_reserved(deltas=deltas)
    result = ReleasedReservations(order_line_ids=sorted(line_ids), units=units)
    skus = dict(Product.objects.filter(pk__in=list(units)).values_list("pk", "sku"))
    for product_id, freed in sorted(units.items()):
        lines_of_product = {r.order_line_id for r in released + split_off if r.product_id == product_id}
        StockCountEvent.record(
            count,
            kind=Kind.RESERVATIONS_RELEASED,
            actor=actor,
            params={"sku": skus[product_id], "units": freed, "lines": len(lines_of_product)},
        )
    outbox_publish(
        topic="inventory.reservations_released",
        payload={"order_line_ids": result.order_line_ids, "document": count.number, "reason": "stock_count"},
    )
    return result


@transaction.atomic
def stock_count_post(*, count: StockCount, by: Actor | Any, allow_uncounted: bool = False) -> StockCount:
    """Post counted − (on hand when counted) of every counted line as adjustments, all or nothing;
    where the count finds less than is reserved, the newest reservations beyond it are released."""
    actor = Actor.of(by)
    locked = stock_count_lock(count_id=count.pk)
    lines = list(locked.lines.filter(counted_quantity__isnull=False).select_related("product").order_by("pk"))
    adjustments = {line.pk: line.counted_quantity - line.on_hand_at_count for line in lines}
    locked.posted_by = actor.user_or_none
    locked = transition_apply(
        obj=locked,
        transition="post",
        actor=actor,
        kind=Kind.POST,
        params={
            "lines": sum(1 for qty in adjustments.values() if qty),
            "over": sum(qty for qty in adjustments.values() if qty > 0),
            "short": -sum(qty for qty in adjustments.values() if qty < 0),
        },
        lock=False,
        update_fields=["posted_by", "posted_at"],
    )
    uncounted = locked.lines.filter(counted_quantity__isnull=True).count()
    if uncounted and not allow_uncounted:
        raise DomainError(
            ngettext(
                "%(n)s line has no counted quantity. Count it, or confirm that it stays as it is.",
                "%(n)s lines have no counted quantity. Count them, or confirm that they stay as they are.",
                uncounted,
            )
            % {"n": uncounted},
            "uncounted_lines",
        )
    shortfalls = {line.product_id: -adjustments[line.pk] for line in lines if adjustments[line.pk] < 0}
    # Lock order: the count (held) → the reservations it may release → every stock row it touches,
    # in primary-key order, before any of them changes.
    reservations = _lock_reservations(warehouse_id=locked.warehouse_id, product_ids=shortfalls) if shortfalls else []
    levels = stock_levels_lock(pairs=[(line.product_id, locked.warehouse_id) for line in lines if adjustments[line.pk]])
    if shortfalls:
        _release_beyond_on_hand(count=locked, shortfalls=shortfalls, reservations=reservations, levels=levels, actor=actor)
    raised: list[int] = []
    for line in lines:
        adjustment = adjustments[line.pk]
        line.adjustment_quantity = adjustment
        if adjustment == 0:
            continue
        line.movement = stock_post_movement(
            product=line.product,
            warehouse=locked.warehouse,
            kind=MovementKind.ADJUSTMENT,
            quantity=adjustment,
            document=locked.number,
            by=actor.user_or_none,
            reason=gettext_noop("Stock count %(number)s: counted %(counted)s, system %(system)s"),
            params={"number": locked.number, "counted": line.counted_quantity, "system": line.on_hand_at_count},
        )
        if adjustment > 0:
            raised.append(line.product_id)
    StockCountLine.objects.bulk_update(lines, ["adjustment_quantity", "movement"])
    queue_backorder_allocation(product_ids=raised)
    return locked


@transaction.atomic
def stock_count_cancel(*, count: StockCount, by: Actor | Any, reason: str) -> StockCount:
    """Abandon a count that is not posted; nothing in stock changes. The reason is the event's note."""
    actor = Actor.of(by)
    reason = (reason or "").strip()[:300]
    if not reason:
        raise DomainError(_("Say why the count is cancelled."), "reason_required", field="reason")
    locked = stock_count_lock(count_id=count.pk)
    locked.cancelled_by = actor.user_or_none
    locked.cancel_reason = reason
    return transition_apply(
        obj=locked,
        transition="cancel",
        actor=actor,
        kind=Kind.CANCEL,
        note=reason,
        lock=False,
        update_fields=["cancelled_by", "cancelled_at", "cancel_reason"],
    )


# --- reads the count pages share -----------------------------------------------------------------


def stock_count_list() -> QuerySet[StockCount]:
    """Counts for the list page, newest first, with what the list shows in the same query."""
    return (
        StockCount.objects.select_related("warehouse", "opened_by")
        .annotate(counted_lines=Count("lines", filter=Q(lines__counted_quantity__isnull=False)))
        .order_by("-opened_at", "-pk")
    )


def stock_count_lines(*, count: StockCount) -> QuerySet[StockCountLine]:
    return count.lines.select_related("product").order_by("product__sku", "pk")


def stock_count_moved_since_opening(*, count: StockCount, product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Net quantity moved per product in the count's warehouse after the snapshot (its own adjustments aside)."""
    movements = StockMovement.objects.filter(warehouse_id=count.warehouse_id, pk__gt=count.ledger_position).exclude(
        document=count.number, kind=MovementKind.ADJUSTMENT
    )
    if product_ids is not None:
        movements = movements.filter(product_id__in=list(product_ids))
    else:
        movements = movements.filter(product__count_lines__count=count)
    rows = movements.values("product_id").annotate(net=Sum("quantity"), n=Count("pk")).order_by()
    return {row["product_id"]: row["net"] for row in rows}


@dataclass
class CountSummary:
    lines: int
    counted: int
    uncounted: int
    with_variance: int
    units_over: int
    units_short: int
    value_over: object
    value_short: object

    @property
    def value_net(self):
        return self.value_over + self.value_short


def stock_count_summary(*, count: StockCount) -> CountSummary:
    """Totals of the variances of the counted lines, in units and at cost (one query)."""
    rows = count.lines.values_list("counted_quantity", "on_hand_at_count", "adjustment_quantity", "unit_cost")
    lines = counted = with_variance = over = short = 0
    value_over = value_short = ZERO
    for counted_qty, at_count, adjusted, unit_cost in rows:
        lines += 1
        if counted_qty is None:
            continue
        counted += 1
        variance = adjusted if adjusted is not None else counted_qty - at_count
        if variance:
            with_variance += 1
        if variance > 0:
            over += variance
            value_over += round_money(variance * unit_cost)
        elif variance < 0:
            short += variance
            value_short += round_money(variance * unit_cost)
    return CountSummary(
        lines=lines,
        counted=counted,
        uncounted=lines - counted,
        with_variance=with_variance,
        units_over=over,
        units_short=short,
        value_over=value_over,
        value_short=value_short,
    )


def stock_count_reservations_to_release(*, count: StockCount) -> list[tuple[str, int]]:
    """Per product (SKU, units): what posting now would release because the count found less than
    is reserved (two queries; what the review page warns about)."""
    if not count.is_active:
        return []
    shortfalls = dict(
        count.lines.filter(counted_quantity__isnull=False, counted_quantity__lt=F("on_hand_at_count"))
        .annotate(taken_out=F("on_hand_at_count") - F("counted_quantity"))
        .values_list("product_id", "taken_out")
    )
    if not shortfalls:
        return []
    levels = StockLevel.objects.filter(warehouse_id=count.warehouse_id, product_id__in=list(shortfalls)).select_related("product")
    at_risk = [(level.product.sku, level.reserved - (level.on_hand - shortfalls[level.product_id])) for level in levels]
    return sorted((sku, units) for sku, units in at_risk if units > 0)


def stock_count_events(*, count: StockCount) -> QuerySet[StockCountEvent]:
    """The count's timeline, oldest first, with who acted (one query)."""
    return count.events.select_related("by").order_by("at", "pk")

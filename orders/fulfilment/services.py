"""The order side of stock: allocation, release, shipment and closing short.

Only this module changes an order line's fulfilment quantities (shipped, cancelled, returned,
invoiced); logistics and billing call it. Stock itself moves through inventory's primitives,
which take plain data. Lock order: the order row → reservations → stock levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError
from config.rows import row_get
from config.transitions import transition_apply
from inventory.stock.reservations import (
    Demand,
    reservations_held,
    stock_consume,
    stock_release,
    stock_release_quantities,
    stock_reserve,
)
from orders.models import OrderEvent, OrderStatus, SalesOrder, SalesOrderLine, order_lines_with_products
from orders.payment_status import order_complete_if_settled

# Orders that wait for stock: allocation picks them up, oldest approval first.
WAITING_FOR_STOCK = [OrderStatus.APPROVED, OrderStatus.BACKORDERED]
# Orders whose open lines allocation may (still) reserve for; a partly shipped order may have lost
# reservations to a stock count.
ALLOCATABLE = [*WAITING_FOR_STOCK, OrderStatus.PARTIALLY_SHIPPED]
# Orders that already said they are short: a run that reserves nothing for them records nothing.
STILL_SHORT = [OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_SHIPPED]


@dataclass
class AllocationRun:
    """What one run over the waiting orders did."""

    allocated: list[SalesOrder] = field(default_factory=list)
    backordered: list[SalesOrder] = field(default_factory=list)
    failed: list[tuple[SalesOrder, str]] = field(default_factory=list)


def waiting_orders(*, product_ids: Iterable[int] | None = None, statuses=WAITING_FOR_STOCK):
    """Approved and backordered orders, first approved first (the order stock is handed out in)."""
    orders = SalesOrder.objects.filter(status__in=statuses)
    if product_ids is not None:
        lines = SalesOrderLine.objects.filter(product_id__in=list(product_ids))
        orders = orders.filter(pk__in=lines.values("order_id"))
    return orders.order_by(F("approved_at").asc(nulls_last=True), "pk")


def _lock(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)


def _open_lines(order: SalesOrder) -> list[SalesOrderLine]:
    return order_lines_with_products(order)


def _reserve_missing(locked: SalesOrder, actor: Actor):
    """Reserve what each open line of the (locked) order still misses and record what was reserved
    and what is short on its timeline; returns inventory's ReserveResult."""
    lines = _open_lines(locked)
    held = reservations_held(line_ids=[line.pk for line in lines])
    demand = [
        Demand(line_id=line.pk, product_id=line.product_id, quantity=line.open_quantity - held.get(line.pk, 0)) for line in lines
    ]
    result = stock_reserve(demand=demand)
    if not result.reserved_any and (not result.short or locked.status in STILL_SHORT):
        return result  # nothing to say: nothing was missing, or nothing arrived since the last run
    sku = {line.pk: line.product.sku for line in lines}
    reserved: dict[str, list] = defaultdict(list)
    for line_id, takes in result.reserved.items():
        for code, qty in takes:
            reserved[code].append([sku[line_id], qty])
    OrderEvent.record(
        locked,
        kind=OrderEvent.Kind.ALLOCATION,
        actor=actor,
        params={"reserved": dict(reserved), "short": [[sku[line_id], qty] for line_id, qty in result.short.items()]},
    )
    return result


@transaction.atomic
def order_allocate(*, order: SalesOrder, by) -> SalesOrder:
    """Reserve what each open line still misses (one warehouse when one can serve it all, else split
    by priority); fully reserved → allocated, otherwise backordered (a partly shipped order only
    tops up its reservations). Running it again changes nothing."""
    return _allocate_locked(_lock(order), by=by)


# No savepoint of its own: only the outbox calls it, in the event's transaction or in a savepoint of its making.
@transaction.atomic(savepoint=False)
def order_allocate_id(*, order_id: int, by) -> SalesOrder | None:
    """order_allocate for an order known by its id (an outbox event): one read, which locks it; None if it is gone."""
    locked = row_get(SalesOrder, order_id, lock=True)
    return None if locked is None else _allocate_locked(locked, by=by)


def _allocate_locked(locked: SalesOrder, *, by) -> SalesOrder:
    actor = Actor.of(by)
    if not actor.has_perm("orders.allocate_salesorder"):
        raise DomainError(_("You are not allowed to allocate orders."), code="permission_denied")
    if locked.status not in ALLOCATABLE:
        return locked
    result = _reserve_missing(locked, actor)
    if locked.status == OrderStatus.PARTIALLY_SHIPPED:
        return locked
    target = "backorder" if result.short else "allocate"
    if (target == "allocate" and locked.status != OrderStatus.ALLOCATED) or (
        target == "backorder" and locked.status != OrderStatus.BACKORDERED
    ):
        locked = transition_apply(obj=locked, transition=target, actor=actor, lock=False, update_fields=["updated_at"])
    return locked


def order_allocate_waiting(*, by, product_ids: Iterable[int] | None = None) -> AllocationRun:
    """Allocate every waiting order (or those needing these products), oldest approval first, each
    in its own transaction so one order's trouble does not hold up the others."""
    run = AllocationRun()
    # Arriving stock also tops up partly shipped orders that lost reservations to a count.
    statuses = ALLOCATABLE if product_ids is not None else WAITING_FOR_STOCK
    for order in list(waiting_orders(product_ids=product_ids, statuses=statuses)):
        try:
            result = order_allocate(order=order, by=by)
        except DomainError as error:
            run.failed.append((order, str(error)))
            continue
        if result.status == OrderStatus.ALLOCATED:
            run.allocated.append(result)
        elif result.status == OrderStatus.BACKORDERED:
            run.backordered.append(result)
    return run


def _released_params(order: SalesOrder, released: Mapping[int, list[tuple[str, int]]]) -> list[list]:
    skus = dict(order.lines.filter(pk__in=list(released)).values_list("pk", "product__sku"))
    return sorted([code, skus[line_id], qty] for line_id, takes in released.items() for code, qty in takes)


@transaction.atomic
def order_release_stock(*, order: SalesOrder, by) -> int:
    """Every active reservation of the order goes back to free stock (cancellation); returns the units freed."""
    actor = Actor.of(by)
    released = stock_release(line_ids=order.lines.values_list("pk", flat=True), by=actor)
    if released:
        OrderEvent.record(
            order, kind=OrderEvent.Kind.RELEASED, actor=actor, params={"released": _released_params(order, released)}
        )
    return sum(qty for takes in released.values() for _code, qty in takes)


def order_reservations_lost(*, order_line_ids: Iterable[int], document: str = "") -> list[SalesOrder]:
    """Stock reserved for these lines is gone (a count found less): each order that is now short
    waits for stock again (backordered) with a timeline note and takes what is free at once.
    Each order in its own transaction (never several orders' stock locks at once); running it
    again for the same document changes nothing."""
    line_ids = set(order_line_ids)
    order_ids = sorted(set(SalesOrderLine.objects.filter(pk__in=line_ids).values_list("order_id", flat=True)))
    moved = []
    for order_id in order_ids:
        order = _order_lost_reservations(order_id=order_id, line_ids=line_ids, document=document)
        if order is not None:
            moved.append(order_allocate(order=order, by=Actor.system("allocation")))
    return moved


@transaction.atomic
def _order_lost_reservations(*, order_id: int, line_ids: set[int], document: str) -> SalesOrder | None:
    """Tell the order's timeline once per count; backorder it if it is really short. Returns the
    order when it should try to reserve again."""
    actor = Actor.system("stock_count")
    order = SalesOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    told = order.events.filter(kind=OrderEvent.Kind.RELEASED, params__document=document).exists() if document else False
    if not told:
        skus = sorted(set(order.lines.filter(pk__in=line_ids).values_list("product__sku", flat=True)))
        OrderEvent.record(order, kind=OrderEvent.Kind.RELEASED, actor=actor, params={"skus": skus, "document": document})
    # The lost units may already be reserved again elsewhere (stock that arrived meanwhile):
    # only an order that is really short goes back to waiting.
    if order.status not in (*ALLOCATABLE, OrderStatus.ALLOCATED):
        return None
    held = reservations_held(line_ids=order.lines.values_list("pk", flat=True))
    if not any(line.open_quantity > held.get(line.pk, 0) for line in order.lines.all()):
        return None
    if order.status == OrderStatus.ALLOCATED:
        order = transition_apply(obj=order, transition="backorder", actor=actor, lock=False)
    return order


@transaction.atomic
def order_record_shipment(
    *, order: SalesOrder, quantities: Mapping[int, int], document: str, by, warehouse_id: int | None = None
) -> SalesOrder:
    """Goods of the order left (logistics calls this; from `warehouse_id` when given): reservations
    there are consumed, the lines' shipped quantities grow, and the order moves to partially shipped or shipped."""
    actor = Actor.of(by)
    locked = _lock(order)
    lines = {line.pk: line for line in _open_lines(locked)}
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty}
    for line_id, qty in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
        if qty > line.open_quantity:
            raise DomainError(
                _("Line %(position)s of %(number)s has %(open)s still to ship; %(qty)s cannot ship.")
                % {"position": line.position, "number": locked.number, "open": line.open_quantity, "qty": qty},
                code="over_shipment",
            )
    stock_consume(quantities=quantities, document=document, by=actor, warehouse_id=warehouse_id)
    if quantities:  # one UPDATE whatever the number of lines
        SalesOrderLine.objects.filter(pk__in=list(quantities)).update(
            quantity_shipped=F("quantity_shipped")
            + Case(
                *[When(pk=pk, then=Value(qty)) for pk, qty in quantities.items()], default=Value(0), output_field=IntegerField()
            )
        )
    OrderEvent.record(
        locked,
        kind=OrderEvent.Kind.SHIPPED,
        actor=actor,
        params={"document": document, "items": [[lines[line_id].product.sku, qty] for line_id, qty in quantities.items()]},
    )
    step = "ship_rest" if not any(line_open_after(lines, quantities)) else "ship_part"
    if step == "ship_part" and locked.status == OrderStatus.PARTIALLY_SHIPPED:
        return locked
    return transition_apply(obj=locked, transition=step, actor=actor, lock=False)


def line_open_after(lines: Mapping[int, SalesOrderLine], shipped: Mapping[int, int]) -> list[int]:
    return [line.open_quantity - shipped.get(pk, 0) for pk, line in lines.items() if line.open_quantity - shipped.get(pk, 0) > 0]


@transaction.atomic
def order_close_short(*, order: SalesOrder, reason: str, by) -> SalesOrder:
    """What has not shipped is cancelled with a reason (quantity_cancelled) and its reservations
    released; the order counts as shipped."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the rest of the order is cancelled."), field="reason")
    actor = Actor.of(by)
    locked = _lock(order)
    if locked.status not in (OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_SHIPPED):
        raise DomainError(
            _("Order %(number)s cannot be closed short while it is %(status)s.")
            % {"number": locked.number, "status": locked.get_status_display()},
            code="transition_not_allowed",
        )
    lines = _open_lines(locked)
    if not any(line.quantity_shipped for line in lines):
        raise DomainError(_("Nothing of order %(number)s has shipped: cancel it instead.") % {"number": locked.number})
    open_lines = [line for line in lines if line.open_quantity]
    stock_release(line_ids=[line.pk for line in open_lines], by=actor)
    for line in open_lines:
        SalesOrderLine.objects.filter(pk=line.pk).update(quantity_cancelled=F("quantity") - F("quantity_shipped"))
    OrderEvent.record(
        locked,
        kind=OrderEvent.Kind.CLOSED_SHORT,
        actor=actor,
        params={"items": [[line.product.sku, line.open_quantity] for line in open_lines]},
    )
    return transition_apply(obj=locked, transition="close_short", actor=actor, note=reason, lock=False)


@transaction.atomic
def order_record_return(*, order: SalesOrder, quantities: Mapping[int, int], document: str, by) -> SalesOrder:
    """Goods of the order came back (logistics calls this when a return is received): each line's
    returned quantity grows, never beyond what shipped (the database CHECK is the last line of
    defence), and never into units still invoiced (finance credits them first)."""
    actor = Actor.of(by)
    locked = _lock(order)
    lines = {line.pk: line for line in locked.lines.select_related("product")}
    quantities = {int(line_id): int(qty) for line_id, qty in quantities.items() if qty}
    for line_id, qty in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
        kept = line.quantity_shipped - line.quantity_returned
        if qty < 0 or qty > kept:
            raise DomainError(
                _("%(sku)s: %(kept)s shipped and not returned; %(qty)s cannot come back.")
                % {"sku": line.product.sku, "kept": kept, "qty": qty},
                code="over_return",
            )
        if line.quantity_invoiced > kept - qty:
            raise DomainError(
                _("%(sku)s: %(invoiced)s units are invoiced; finance must credit %(credit)s of them before they can be returned.")
                % {"sku": line.product.sku, "invoiced": line.quantity_invoiced, "credit": line.quantity_invoiced - (kept - qty)},
                code="returned_invoiced",
            )
    if not quantities:
        return locked
    SalesOrderLine.objects.filter(pk__in=list(quantities)).update(
        quantity_returned=F("quantity_returned")
        + Case(*[When(pk=pk, then=Value(qty)) for pk, qty in quantities.items()], default=Value(0), output_field=IntegerField())
    )
    OrderEvent.record(
        locked,
        kind=OrderEvent.Kind.RETURNED,
        actor=actor,
        params={"document": document, "items": [[lines[line_id].product.sku, qty] for line_id, qty in quantities.items()]},
    )
    return locked


@transaction.atomic
def order_record_replacement(
    *, order: SalesOrder, quantities: Mapping[int, int], document: str, by, warehouse_id: int | None = None
) -> SalesOrder:
    """A replacement for returned goods left (logistics calls this): the stock reserved for it is
    consumed in the ledger; the lines' quantities and the order's status stay as they are."""
    actor = Actor.of(by)
    locked = _lock(order)
    skus = dict(locked.lines.filter(pk__in=list(quantities)).values_list("pk", "product__sku"))
    if set(quantities) - set(skus):
        raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
    stock_consume(quantities=quantities, document=document, by=actor, warehouse_id=warehouse_id)
    OrderEvent.record(
        locked,
        kind=OrderEvent.Kind.REPLACEMENT,
        actor=actor,
        params={"document": document, "items": [[skus[line_id], qty] for line_id, qty in quantities.items() if qty]},
    )
    return locked


@transaction.atomic
def order_release_replacement(*, order: SalesOrder, quantities: Mapping[int, int], warehouse_id: int, by) -> SalesOrder:
    """A replacement shipment (for returned or lost goods) was cancelled before it left: the stock
    reserved for it beyond the lines' own need goes back to free stock, with a timeline note."""
    actor = Actor.of(by)
    locked = _lock(order)
    released = stock_release_quantities(quantities=quantities, warehouse_id=warehouse_id, by=actor)
    if released:
        OrderEvent.record(
            locked, kind=OrderEvent.Kind.RELEASED, actor=actor, params={"released": _released_params(locked, released)}
        )
    return locked


@transaction.atomic
def order_record_delivery(*, order: SalesOrder, by) -> SalesOrder:
    """Every shipment of the order was delivered (logistics decides and calls this): a shipped order
    whose lines are all fully shipped moves to delivered; any other order is left as it is."""
    actor = Actor.of(by)
    locked = _lock(order)
    if locked.status != OrderStatus.SHIPPED or not locked._all_shipped():
        return locked
    delivered = transition_apply(obj=locked, transition="deliver", actor=actor, lock=False)
    return order_complete_if_settled(order=delivered, by=actor)  # invoiced and paid before it arrived


@transaction.atomic
def order_reserve_replacement(*, order: SalesOrder, quantities: Mapping[int, int], by) -> dict[int, list[tuple[str, int]]]:
    """Goods of the order lost or spoiled on the way are reserved again for a re-shipment, at most what
    each line shipped; the lines' quantities do not change. Refused, with nothing reserved, when stock is short.
    Returns per line the (warehouse code, units) reserved."""
    actor = Actor.of(by)
    locked = _lock(order)
    lines = {line.pk: line for line in _open_lines(locked)}
    quantities = {line_id: qty for line_id, qty in quantities.items() if qty}
    if not quantities:
        raise DomainError(_("Choose at least one unit to ship again."), code="nothing_to_reship")
    for line_id, qty in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
        if qty < 0 or qty > line.quantity_shipped:
            raise DomainError(
                _("Line %(position)s of %(number)s shipped %(shipped)s; %(qty)s cannot be shipped again.")
                % {"position": line.position, "number": locked.number, "shipped": line.quantity_shipped, "qty": qty},
                code="over_reshipment",
            )
    result = stock_reserve(
        demand=[Demand(line_id=pk, product_id=lines[pk].product_id, quantity=q) for pk, q in quantities.items()]
    )
    if result.short:
        short = ", ".join(f"{lines[pk].product.sku} ({qty})" for pk, qty in result.short.items())
        raise DomainError(_("Not enough free stock to ship these again: %(items)s.") % {"items": short}, code="short")
    sku = {pk: line.product.sku for pk, line in lines.items()}
    reserved: dict[str, list] = defaultdict(list)
    for line_id, takes in result.reserved.items():
        for code, qty in takes:
            reserved[code].append([sku[line_id], qty])
    OrderEvent.record(locked, kind=OrderEvent.Kind.ALLOCATION, actor=actor, params={"reserved": dict(reserved), "short": []})
    return dict(result.reserved)

"""Every write of a return: open it for shipped units, approve or reject it, receive it with an
outcome per line, close it.

Lock order (DESIGN): the order row → the return → reservations → stock levels → number counter.
Opening locks the order, so two clerks returning the same line at once cannot promise more than
shipped less returned; receiving hands the returned units to orders.fulfilment (the line's
quantity_returned, with its CHECK constraint) in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from config.outbox import outbox_publish
from config.transitions import transition_apply
from inventory.models import MovementKind, StockLevel, Warehouse
from inventory.stock.reservations import Demand, stock_reserve
from inventory.stock.services import queue_backorder_allocation, stock_levels_lock, stock_post_movement
from logistics.models import Shipment, ShipmentEvent, ShipmentLine
from logistics.returns.models import (
    APPROVE_PERMISSION,
    OPEN_PERMISSION,
    RECEIVE_PERMISSION,
    ReturnEvent,
    ReturnLine,
    ReturnOutcome,
    ReturnReason,
    ReturnRequest,
    ReturnState,
)
from logistics.returns.selectors import RETURNABLE_ORDER_STATES, returnable_quantities
from orders.entry.services import order_may_change
from orders.fulfilment.services import order_record_return
from orders.models import SalesOrder

Kind = ReturnEvent.Kind
REFUND_TOPIC = "logistics.return_refund_requested"
MAX_DETAILS = 2000


def _lock_order(order_id: int) -> SalesOrder:
    return SalesOrder.objects.select_for_update(of=("self",)).get(pk=order_id)


def return_lock(*, return_id: int) -> ReturnRequest:
    """Re-read the return under a row lock before acting on it."""
    return ReturnRequest.objects.select_for_update(of=("self",)).select_related("order").get(pk=return_id)


def return_may_open(*, order: SalesOrder, actor: Actor | object) -> bool:
    """Warehouse staff and managers open returns for any order; sales staff for the orders they entered."""
    actor = Actor.of(actor)
    if not actor.has_perm(OPEN_PERMISSION):
        return False
    return actor.has_perm(APPROVE_PERMISSION) or order_may_change(order=order, actor=actor)


@transaction.atomic
def return_open(*, order: SalesOrder, quantities: Mapping[int, int], reason: str, by, details: str = "") -> ReturnRequest:
    """A return of shipped units of the order with a reason: per line at most shipped, less
    returned, less what other open returns hold (read under the order's lock)."""
    actor = Actor.of(by)
    if not return_may_open(order=order, actor=actor):
        raise PermissionRefused(
            _("Only the order's salesperson, the warehouse or a manager may open a return for %(number)s.")
            % {"number": order.number}
        )
    if reason not in ReturnReason.values:
        raise DomainError(_("Choose why the goods come back."), code="reason_missing", field="reason")
    locked = _lock_order(order.pk)
    if locked.status not in RETURNABLE_ORDER_STATES:
        raise DomainError(
            _("Order %(number)s has nothing at the customer while it is %(status)s.")
            % {"number": locked.number, "status": locked.get_status_display()},
            code="order_not_returnable",
        )
    try:
        quantities = {int(line_id): int(qty) for line_id, qty in quantities.items() if qty}
    except (TypeError, ValueError) as error:
        raise DomainError(_("A quantity must be a whole number."), code="bad_quantity") from error
    if any(qty < 0 for qty in quantities.values()):
        raise DomainError(_("A quantity to return cannot be negative."), code="negative_quantity")
    if not quantities:
        raise DomainError(_("Choose at least one unit to return."), code="nothing_to_return")
    lines = {line.pk: line for line in locked.lines.select_related("product")}
    returnable = returnable_quantities(order=locked)
    problems = []
    for line_id, qty in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
        if qty > returnable.get(line_id, 0):
            problems.append(
                _("%(sku)s: %(left)s may still be returned; %(qty)s is too many.")
                % {"sku": line.product.sku, "left": max(returnable.get(line_id, 0), 0), "qty": qty}
            )
    if problems:
        raise DomainError(" ".join(problems), code="over_return", items=problems)
    return_request = ReturnRequest.objects.create(
        number=document_number("return"),
        order=locked,
        reason=reason,
        details=(details or "").strip()[:MAX_DETAILS],
        line_count=len(quantities),
        unit_count=sum(quantities.values()),
        created_by=actor.user_or_none,
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=return_request, order_line_id=line_id, product_id=lines[line_id].product_id, quantity=qty)
        for line_id, qty in quantities.items()
    )
    ReturnEvent.record(
        return_request,
        kind=Kind.CREATED,
        actor=actor,
        params={
            "order": locked.number,
            "units": return_request.unit_count,
            "items": [[lines[line_id].product.sku, qty] for line_id, qty in quantities.items()],
        },
    )
    return return_request


@transaction.atomic
def return_approve(*, return_request: ReturnRequest, by, note: str = "") -> ReturnRequest:
    """The warehouse accepts the return: requested → approved."""
    return transition_apply(obj=return_request, transition="approve", actor=by, kind=Kind.APPROVE, note=(note or "").strip())


@transaction.atomic
def return_reject(*, return_request: ReturnRequest, by, note: str) -> ReturnRequest:
    """The return is refused, with a reason: its units may be returned again another time."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say why the return is rejected."), code="note_missing", field="note")
    return transition_apply(obj=return_request, transition="reject", actor=by, kind=Kind.REJECT, note=note)


@transaction.atomic
def return_close(*, return_request: ReturnRequest, by, note: str = "") -> ReturnRequest:
    """Everything about the received return is done: received → closed."""
    return transition_apply(obj=return_request, transition="close", actor=by, kind=Kind.CLOSE, note=(note or "").strip())


@dataclass(frozen=True)
class LineOutcome:
    """What becomes of one return line: its outcome and, to restock, the warehouse."""

    outcome: str
    warehouse_id: int | None = None


def _check_outcomes(lines: list[ReturnLine], outcomes: Mapping[int, LineOutcome]) -> dict[int, Warehouse]:
    """Every line has a known outcome; restocking names an active warehouse. Returns the warehouses by id."""
    warehouse_ids = {o.warehouse_id for o in outcomes.values() if o.warehouse_id}
    warehouses = Warehouse.objects.in_bulk(warehouse_ids)
    for line in lines:
        chosen = outcomes.get(line.pk)
        if chosen is None or chosen.outcome not in ReturnOutcome.values:
            raise DomainError(
                _("%(sku)s: choose what becomes of it.") % {"sku": line.product.sku}, code="outcome_missing", items=[line.pk]
            )
        if chosen.outcome == ReturnOutcome.RESTOCK:
            warehouse = warehouses.get(chosen.warehouse_id)
            if warehouse is None or not warehouse.is_active:
                raise DomainError(
                    _("%(sku)s: choose an active warehouse to restock it in.") % {"sku": line.product.sku},
                    code="warehouse_missing",
                    items=[line.pk],
                )
    return warehouses


def _restock(*, lines: list[ReturnLine], warehouses: dict[int, Warehouse], document: str, actor: Actor) -> None:
    """A return movement per line into its warehouse; whoever waits for these products gets them."""
    for line in lines:
        stock_post_movement(
            product=line.product,
            warehouse=warehouses[line.warehouse_id],
            kind=MovementKind.RETURN,
            quantity=line.quantity,
            reason=gettext_noop("Return %(document)s"),
            params={"document": document},
            document=document,
            by=actor.user_or_none,
        )
    # As a receipt does: the returned stock is offered to backordered orders after commit.
    queue_backorder_allocation(product_ids=[line.product_id for line in lines])


def _replace(*, locked: ReturnRequest, lines: list[ReturnLine], actor: Actor) -> list[Shipment]:
    """Reserve the replacement units (warehouses by priority, as allocation does) and draft one
    shipment per warehouse for them; refused when the stock is not there."""
    result = stock_reserve(
        demand=[Demand(line_id=line.order_line_id, product_id=line.product_id, quantity=line.quantity) for line in lines]
    )
    if result.short:
        sku = {line.order_line_id: line.product.sku for line in lines}
        raise DomainError(
            _("Not enough free stock for the replacement: %(items)s.")
            % {"items": ", ".join(f"{qty} × {sku[line_id]}" for line_id, qty in result.short.items())},
            code="replacement_short",
        )
    codes = {w.code: w for w in Warehouse.objects.filter(code__in={c for takes in result.reserved.values() for c, _q in takes})}
    per_warehouse: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line_id, takes in result.reserved.items():
        for code, qty in takes:
            per_warehouse[code][line_id] += qty
    products = {line.order_line_id: line.product_id for line in lines}
    shipments = []
    for code in sorted(per_warehouse):
        quantities = per_warehouse[code]
        shipment = Shipment.objects.create(
            number=document_number("shipment"),
            order=locked.order,
            warehouse=codes[code],
            replaces=locked,
            created_by=actor.user_or_none,
            line_count=len(quantities),
            unit_count=sum(quantities.values()),
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=line_id, product_id=products[line_id], quantity=qty)
            for line_id, qty in quantities.items()
        )
        ShipmentEvent.record(
            shipment,
            kind=ShipmentEvent.Kind.CREATED,
            actor=actor,
            params={"order": locked.order.number, "units": shipment.unit_count},
        )
        ReturnEvent.record(locked, kind=Kind.REPLACEMENT, actor=actor, params={"shipment": shipment.number})
        shipments.append(shipment)
    return shipments


def _request_refund(*, locked: ReturnRequest, lines: list[ReturnLine], actor: Actor) -> None:
    """Hand the refund to finance: an outbox event billing subscribes to, written in this transaction."""
    outbox_publish(
        topic=REFUND_TOPIC,
        payload={
            "return_id": locked.pk,
            "return_number": locked.number,
            "order_id": locked.order_id,
            "order_number": locked.order.number,
            "lines": [
                {"order_line_id": line.order_line_id, "product_id": line.product_id, "quantity": line.quantity} for line in lines
            ],
        },
    )
    ReturnEvent.record(
        locked, kind=Kind.REFUND, actor=actor, params={"items": [[line.product.sku, line.quantity] for line in lines]}
    )


@transaction.atomic
def return_receive(*, return_request: ReturnRequest, outcomes: Mapping[int, LineOutcome], by, note: str = "") -> ReturnRequest:
    """The goods arrived: approved → received, with per line (return line id → outcome) restock
    (a return movement into the warehouse), scrap (recorded, no stock), replace (a new shipment
    of the same units) or refund (handed to finance). What does not come back as a replacement
    is counted as returned on the order line."""
    actor = Actor.of(by)
    if not actor.has_perm(RECEIVE_PERMISSION):
        raise PermissionRefused(_("You are not allowed to receive returns."))
    order = _lock_order(return_request.order_id)  # the order first: the global lock order
    locked = return_lock(return_id=return_request.pk)
    if locked.state != ReturnState.APPROVED:
        raise DomainError(
            _("Return %(number)s cannot be received while it is %(state)s.")
            % {"number": locked.number, "state": locked.get_state_display()},
            code="transition_not_allowed",
        )
    lines = list(locked.lines.select_related("product").order_by("pk"))
    warehouses = _check_outcomes(lines, outcomes)
    by_outcome: dict[str, list[ReturnLine]] = defaultdict(list)
    for line in lines:
        chosen = outcomes[line.pk]
        line.outcome = chosen.outcome
        line.warehouse_id = chosen.warehouse_id if chosen.outcome == ReturnOutcome.RESTOCK else None
        by_outcome[line.outcome].append(line)
    ReturnLine.objects.bulk_update(lines, ["outcome", "warehouse"])
    locked.order = order
    locked = transition_apply(
        obj=locked,
        transition="receive",
        actor=actor,
        kind=Kind.RECEIVE,
        note=(note or "").strip(),
        params={"items": [[line.product.sku, line.quantity, line.outcome] for line in lines]},
        lock=False,
    )
    # A replaced unit is sent again: the customer keeps as many as before, so only the others count as returned.
    returned = defaultdict(int)
    for line in lines:
        if line.outcome != ReturnOutcome.REPLACE:
            returned[line.order_line_id] += line.quantity
    order_record_return(order=order, quantities=returned, document=locked.number, by=actor)
    restocked = by_outcome.get(ReturnOutcome.RESTOCK, [])
    replaced = by_outcome.get(ReturnOutcome.REPLACE, [])
    # Every stock row this receipt touches, locked at once in primary-key order (no deadlock with another receipt).
    pairs = {(line.product_id, line.warehouse_id) for line in restocked}
    if replaced:
        pairs |= set(
            StockLevel.objects.filter(
                product_id__in={line.product_id for line in replaced}, warehouse__is_active=True
            ).values_list("product_id", "warehouse_id")
        )
    stock_levels_lock(pairs=pairs)
    if restocked:
        _restock(lines=restocked, warehouses=warehouses, document=locked.number, actor=actor)
    if replaced:
        _replace(locked=locked, lines=replaced, actor=actor)
    if by_outcome.get(ReturnOutcome.REFUND):
        _request_refund(locked=locked, lines=by_outcome[ReturnOutcome.REFUND], actor=actor)
    return locked

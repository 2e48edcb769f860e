"""Replenishment: what to reorder (the proposal), and the request document that orders it from the
supplier and receives it, in one or more deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from math import ceil
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from config.transitions import transition_apply
from inventory.models import (
    REPLENISHMENT_OPEN,
    Product,
    ReplenishmentEvent,
    ReplenishmentLine,
    ReplenishmentRequest,
    StockLevel,
    Warehouse,
)
from inventory.stock.services import MAX_MOVEMENT_QUANTITY, stock_receive

Kind = ReplenishmentEvent.Kind
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


def stock_demand_shortfall() -> dict[int, int]:
    """Units waiting orders are short of per product, from the provider settings name
    (STOCK_DEMAND_PROVIDER: a function () -> {product id: units short}); the orders app answers it."""
    provider = import_string(settings.STOCK_DEMAND_PROVIDER)
    return {int(product_id): int(units) for product_id, units in provider().items() if units and units > 0}


def backorder_needs() -> list[dict]:
    """Products that waiting orders are still short of, beyond what open requests already bring:
    [{product, short, on_order, proposed}] (the provider's queries, then two)."""
    short = stock_demand_shortfall()
    if not short:
        return []
    on_order = dict(
        ReplenishmentLine.objects.filter(request__state__in=REPLENISHMENT_OPEN, product__in=list(short))
        .order_by()
        .values_list("product")
        .annotate(total=Sum(F("quantity_ordered") - F("quantity_received")))
    )
    products = Product.objects.in_bulk(list(short))
    needs = [
        {"product": products[pid], "short": qty, "on_order": on_order.get(pid, 0), "proposed": qty - on_order.get(pid, 0)}
        for pid, qty in short.items()
        if pid in products
    ]
    return sorted((n for n in needs if n["proposed"] > 0), key=lambda n: n["product"].sku)


def main_warehouse() -> Warehouse | None:
    """Where goods for waiting orders are ordered to: the active warehouse allocated from first."""
    return Warehouse.objects.filter(is_active=True).order_by("priority", "code").first()


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that with replenishment requests."))


@transaction.atomic
def replenishment_create(
    *,
    warehouse: Warehouse,
    quantities: Mapping[Product, int],
    by: Actor | Any,
    supplier: str = "",
    note: str = "",
    from_proposal: bool = False,
) -> ReplenishmentRequest:
    """A draft request for one warehouse; each product once, each quantity positive."""
    actor = Actor.of(by)
    _require(actor, "inventory.manage_replenishment")
    if not warehouse.is_active:
        raise DomainError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code}, "warehouse_inactive")
    items = [(product, qty) for product, qty in quantities.items() if qty]
    if not items:
        raise DomainError(_("A replenishment request needs at least one product."), "no_lines")
    if len(items) > MAX_LINES:
        raise DomainError(_("A replenishment request may have at most %(max)s lines.") % {"max": MAX_LINES}, "too_many_lines")
    for product, qty in items:
        if qty < 0 or qty > MAX_MOVEMENT_QUANTITY:
            raise DomainError(
                _("%(sku)s: the quantity must be between 1 and %(max)s.") % {"sku": product.sku, "max": MAX_MOVEMENT_QUANTITY},
                "invalid_quantity",
            )
    request = ReplenishmentRequest.objects.create(
        number=document_number("replenishment"),
        warehouse=warehouse,
        supplier=supplier.strip(),
        note=note.strip(),
        created_by=actor.user_or_none,
    )
    ReplenishmentLine.objects.bulk_create(
        [
            ReplenishmentLine(request=request, product=product, quantity_ordered=qty)
            for product, qty in sorted(items, key=lambda i: i[0].sku)
        ]
    )
    ReplenishmentEvent.record(
        request,
        kind=Kind.CREATED,
        actor=actor,
        params={"lines": len(items), "warehouse": warehouse.code, "from_proposal": from_proposal},
        to_state=request.state,
    )
    return request


@transaction.atomic
def replenishment_create_from_proposal(*, warehouse: Warehouse, by: Actor | Any, supplier: str = "") -> ReplenishmentRequest:
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
        raise DomainError(_("Nothing needs reordering in %(code)s.") % {"code": warehouse.code}, "nothing_to_reorder")
    return replenishment_create(warehouse=warehouse, quantities=quantities, by=by, supplier=supplier, from_proposal=True)


def replenishment_lock(*, request_id: int) -> ReplenishmentRequest:
    """Re-read the request under a row lock before acting on it."""
    return ReplenishmentRequest.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=request_id)


@transaction.atomic
def replenishment_place(*, request: ReplenishmentRequest, by: Actor | Any) -> ReplenishmentRequest:
    """A draft with lines is sent to the supplier: from now on its quantities count as on order."""
    locked = replenishment_lock(request_id=request.pk)
    return transition_apply(
        obj=locked,
        transition="place",
        actor=by,
        kind=Kind.PLACE,
        params={"supplier": locked.supplier},
        lock=False,
        update_fields=["ordered_at", "updated_at"],
    )


@transaction.atomic
def replenishment_cancel(*, request: ReplenishmentRequest, by: Actor | Any) -> ReplenishmentRequest:
    """A request nothing was received for may be cancelled."""
    locked = replenishment_lock(request_id=request.pk)
    return transition_apply(obj=locked, transition="cancel", actor=by, kind=Kind.CANCEL, lock=False, update_fields=["updated_at"])


@transaction.atomic
def replenishment_receive(
    *,
    request: ReplenishmentRequest,
    quantities: Mapping[int, int],
    by: Actor | Any,
    reference: str = "",
) -> ReplenishmentRequest:
    """A delivery for the request: receipt movements for what arrived (never more than is still
    outstanding per line), partially received until every line is complete."""
    actor = Actor.of(by)
    _require(actor, "inventory.receive_stock")
    locked = replenishment_lock(request_id=request.pk)
    if not can_proceed(locked.receive_rest):
        raise DomainError(
            _("Request %(number)s cannot receive goods while it is %(state)s.")
            % {"number": locked.number, "state": locked.get_state_display()},
            "transition_not_allowed",
        )
    lines = {line.pk: line for line in locked.lines.select_related("product")}
    arrived: dict[Product, int] = {}
    for line_id, qty in quantities.items():
        if not qty:
            continue
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line does not belong to request %(number)s.") % {"number": locked.number}, "unknown_line")
        if qty < 0 or qty > line.outstanding:
            raise DomainError(
                _("%(sku)s: between 1 and %(max)s are still expected.") % {"sku": line.product.sku, "max": line.outstanding},
                "invalid_quantity",
            )
        line.quantity_received += qty
        arrived[line.product] = qty
    if not arrived:
        raise DomainError(_("Enter the quantity that arrived for at least one line."), "nothing_received")
    complete = all(line.outstanding == 0 for line in lines.values())
    locked = transition_apply(
        obj=locked,
        transition="receive_rest" if complete else "receive_part",
        actor=actor,
        kind=Kind.RECEIVE,
        params={"document": locked.number, "units": sum(arrived.values()), "reference": reference.strip()},
        lock=False,
        update_fields=["received_at", "updated_at"],
    )
    stock_receive(warehouse=locked.warehouse, quantities=arrived, reference=reference, by=actor, document=locked.number)
    ReplenishmentLine.objects.bulk_update(list(lines.values()), ["quantity_received"])
    return locked


def replenishment_events(*, request: ReplenishmentRequest):
    """The request's timeline, oldest first, with who acted (one query)."""
    return request.events.select_related("by").order_by("at", "pk")

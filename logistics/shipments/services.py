"""Every write of a shipment: create from what is reserved, pick, scan into parcels, pack, ship, cancel.

Lock order (DESIGN): the order row → the shipment → reservations → stock levels → number counter.
Shipping hands the goods to orders.fulfilment.order_record_shipment in the same transaction, which
consumes the reservations, posts the ledger's shipment movements and moves the order on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, DecimalField, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.money import ZERO
from config.numbering import document_number
from config.transitions import transition_apply
from inventory.models import Warehouse
from inventory.stock.selectors import product_by_code, shipment_unit_costs
from logistics.models import SHIP_PERMISSION, Carrier, Parcel, ParcelItem, Shipment, ShipmentEvent, ShipmentLine, ShipmentState
from logistics.shipments.selectors import in_open_shipments, reserved_in_warehouses
from logistics.tracking.services import order_tracking_token
from orders.fulfilment.services import order_record_replacement, order_record_shipment, order_release_replacement
from orders.models import PICKABLE, SalesOrder

Kind = ShipmentEvent.Kind
MAX_WAYBILL_LENGTH = 40
MAX_PARCELS = 99


def _require_shipper(actor: Actor) -> None:
    if not actor.has_perm(SHIP_PERMISSION):
        raise PermissionRefused(_("You are not allowed to pick, pack or ship."))


def _lock_order(order_id: int) -> SalesOrder:
    return SalesOrder.objects.select_for_update(of=("self",)).get(pk=order_id)


def shipment_lock(*, shipment_id: int) -> Shipment:
    """Re-read the shipment under a row lock before acting on it."""
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "warehouse").get(pk=shipment_id)


@transaction.atomic
def shipment_create(*, order: SalesOrder, warehouse: Warehouse, quantities: Mapping[int, int], by) -> Shipment:
    """A draft shipment of what is reserved for the order in this warehouse and not on another open
    shipment yet (per order line, at most that); its number comes from the registry."""
    actor = Actor.of(by)
    _require_shipper(actor)
    locked = _lock_order(order.pk)
    if locked.status not in PICKABLE:
        raise DomainError(
            _("Order %(number)s cannot be picked while it is %(status)s.")
            % {"number": locked.number, "status": locked.get_status_display()},
            code="order_not_pickable",
        )
    lines = {line.pk: line for line in locked.lines.select_related("product")}
    quantities = {int(line_id): int(qty) for line_id, qty in quantities.items() if qty}
    if any(qty < 0 for qty in quantities.values()):
        raise DomainError(_("A quantity to pick cannot be negative."), code="negative_quantity")
    if not quantities:
        raise DomainError(_("Choose at least one unit to pick."), code="nothing_to_pick")
    reserved = reserved_in_warehouses(line_ids=list(quantities))
    taken = in_open_shipments(line_ids=list(quantities))
    problems = []
    for line_id, qty in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on order %(number)s.") % {"number": locked.number}, code="unknown_line")
        key = (line_id, warehouse.pk)
        pickable = reserved.get(key, 0) - taken.get(key, 0)
        if qty > pickable:
            problems.append(
                _("%(sku)s: %(pickable)s reserved in %(warehouse)s and not yet picked; %(qty)s cannot be picked.")
                % {"sku": line.product.sku, "pickable": max(pickable, 0), "warehouse": warehouse.code, "qty": qty}
            )
    if problems:
        raise DomainError(" ".join(problems), code="over_pick", items=problems)
    shipment = Shipment.objects.create(
        number=document_number("shipment"),
        order=locked,
        warehouse=warehouse,
        created_by=actor.user_or_none,
        line_count=len(quantities),
        unit_count=sum(quantities.values()),
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=line_id, product_id=lines[line_id].product_id, quantity=qty)
        for line_id, qty in quantities.items()
    )
    ShipmentEvent.record(shipment, kind=Kind.CREATED, actor=actor, params={"order": locked.number, "units": shipment.unit_count})
    return shipment


@transaction.atomic
def shipment_start_picking(*, shipment: Shipment, by) -> Shipment:
    """The picker takes the pick list: draft → picking."""
    return transition_apply(obj=shipment, transition="start_picking", actor=by, kind=Kind.START_PICKING)


@dataclass
class ScanResult:
    line: ShipmentLine
    parcel: Parcel
    quantity: int


@transaction.atomic
def shipment_scan(*, shipment: Shipment, code: str, by, parcel_index: int = 1, quantity: int = 1) -> ScanResult:
    """A scanned (or typed) product goes into parcel `parcel_index`; a product not on the shipment,
    or more units than were picked, is refused. Scanning a draft starts picking."""
    actor = Actor.of(by)
    _require_shipper(actor)
    locked = shipment_lock(shipment_id=shipment.pk)
    if locked.state == ShipmentState.DRAFT:
        locked = transition_apply(obj=locked, transition="start_picking", actor=actor, kind=Kind.START_PICKING, lock=False)
    if locked.state != ShipmentState.PICKING:
        raise DomainError(
            _("Shipment %(number)s is %(state)s: nothing can be scanned into it.")
            % {"number": locked.number, "state": locked.get_state_display()},
            code="not_picking",
        )
    if quantity < 1:
        raise DomainError(_("Scan at least one unit."), code="negative_quantity", field="quantity")
    code = (code or "").strip()
    product = product_by_code(code=code)
    if product is None:
        raise DomainError(_("No product has the code “%(code)s”.") % {"code": code}, code="unknown_code", field="code")
    lines = list(locked.lines.filter(product=product).order_by("pk"))
    if not lines:
        raise DomainError(
            _("%(sku)s %(name)s is not on shipment %(number)s: put it back.")
            % {"sku": product.sku, "name": product.name, "number": locked.number},
            code="wrong_product",
            field="code",
        )
    line = next((line for line in lines if line.quantity_to_pack >= quantity), None)
    if line is None:
        picked = sum(line.quantity for line in lines)
        left = sum(line.quantity_to_pack for line in lines)
        raise DomainError(
            _("%(sku)s: %(picked)s to pack on this shipment and %(left)s still open; %(qty)s more is too many.")
            % {"sku": product.sku, "picked": picked, "left": left, "qty": quantity},
            code="excess",
            field="code",
        )
    last_index = max(locked.parcels.values_list("index", flat=True), default=0)
    if parcel_index < 1 or parcel_index > min(last_index + 1, MAX_PARCELS):
        raise DomainError(
            _("Use parcel 1 to %(next)s.") % {"next": min(last_index + 1, MAX_PARCELS)}, code="parcel_index", field="parcel"
        )
    parcel, _created = Parcel.objects.get_or_create(shipment=locked, index=parcel_index)
    item, created = ParcelItem.objects.get_or_create(parcel=parcel, line=line, defaults={"quantity": quantity})
    if not created:
        ParcelItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    ShipmentLine.objects.filter(pk=line.pk).update(quantity_packed=F("quantity_packed") + quantity)
    line.quantity_packed += quantity
    return ScanResult(line=line, parcel=parcel, quantity=quantity)


@dataclass(frozen=True)
class ParcelInput:
    """What the packer says about one parcel: its weight and, if measured, its size."""

    index: int
    weight_kg: Decimal
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None


@transaction.atomic
def shipment_pack(*, shipment: Shipment, parcels: Sequence[ParcelInput], by) -> Shipment:
    """Every picked unit is in a parcel and every parcel is weighed: picking → packed."""
    actor = Actor.of(by)
    _require_shipper(actor)
    locked = shipment_lock(shipment_id=shipment.pk)
    existing = {parcel.index: parcel for parcel in locked.parcels.all()}
    given = {parcel.index: parcel for parcel in parcels}
    for index, parcel in existing.items():
        data = given.get(index)
        if data is None or data.weight_kg is None or data.weight_kg <= 0:
            raise DomainError(_("Parcel %(index)s needs a weight.") % {"index": index}, code="weight_missing")
        for value in (data.length_cm, data.width_cm, data.height_cm):
            if value is not None and value <= 0:
                raise DomainError(_("A parcel's size must be positive."), code="bad_dimension")
        parcel.weight_kg = data.weight_kg
        parcel.length_cm, parcel.width_cm, parcel.height_cm = data.length_cm, data.width_cm, data.height_cm
    Parcel.objects.bulk_update(existing.values(), ["weight_kg", "length_cm", "width_cm", "height_cm"])
    return transition_apply(
        obj=locked, transition="pack", actor=actor, kind=Kind.PACK, params={"parcels": len(existing)}, lock=False
    )


def _clean_waybills(waybills: Sequence[str], count: int) -> list[str]:
    cleaned = [(number or "").strip().upper() for number in waybills]
    if len(cleaned) != count or not all(cleaned):
        raise DomainError(_("Give one waybill number for each of the %(n)s parcels.") % {"n": count}, code="waybill_missing")
    if any(
        len(number) > MAX_WAYBILL_LENGTH or not number.isascii() or not number.replace("-", "").isalnum() for number in cleaned
    ):
        raise DomainError(_("A waybill number has only letters, digits and dashes."), code="waybill_invalid")
    if len(set(cleaned)) != len(cleaned):
        raise DomainError(_("Each parcel needs its own waybill number."), code="waybill_duplicate")
    return cleaned


@transaction.atomic
def shipment_ship(
    *,
    shipment: Shipment,
    carrier: Carrier,
    waybills: Sequence[str],
    by,
    service: str = "",
    eta: date | None = None,
    insured_value: Decimal = ZERO,
    cod_amount: Decimal = ZERO,
) -> Shipment:
    """The carrier takes the parcels, one waybill number each (in parcel order): the order's
    reservations are consumed in the ledger, its lines' shipped quantities grow and it moves to
    partially shipped or shipped. ETA defaults to today + the carrier's transit days."""
    actor = Actor.of(by)
    _require_shipper(actor)
    order = _lock_order(shipment.order_id)  # the order first: the global lock order
    locked = shipment_lock(shipment_id=shipment.pk)
    if locked.state != ShipmentState.PACKED:
        raise DomainError(
            _("Shipment %(number)s cannot ship while it is %(state)s.")
            % {"number": locked.number, "state": locked.get_state_display()},
            code="transition_not_allowed",
        )
    if not carrier.active:
        raise DomainError(_("%(carrier)s is not an active carrier.") % {"carrier": carrier.name}, code="carrier_inactive")
    if insured_value is None or cod_amount is None or insured_value < 0 or cod_amount < 0:
        raise DomainError(_("Insured value and cash on delivery cannot be negative."), code="negative_amount")
    parcels = list(locked.parcels.order_by("index"))
    numbers = _clean_waybills(waybills, len(parcels))
    used = set(Parcel.objects.filter(carrier=carrier, waybill_number__in=numbers).values_list("waybill_number", flat=True))
    if used:
        raise DomainError(
            _("%(carrier)s waybill numbers already used: %(numbers)s.")
            % {"carrier": carrier.name, "numbers": ", ".join(sorted(used))},
            code="waybill_used",
        )
    for parcel, number in zip(parcels, numbers, strict=True):
        parcel.carrier = carrier
        parcel.waybill_number = number
    try:
        with transaction.atomic():
            Parcel.objects.bulk_update(parcels, ["carrier", "waybill_number"])
    except IntegrityError as error:  # another shipment took the number meanwhile
        raise DomainError(_("One of these waybill numbers was just used by another shipment."), code="waybill_used") from error
    locked.carrier = carrier
    locked.service = (service or "").strip()[:60]
    locked.eta = eta or timezone.localdate() + timedelta(days=carrier.transit_days)
    locked.insured_value = insured_value
    locked.cod_amount = cod_amount
    locked = transition_apply(
        obj=locked,
        transition="ship",
        actor=actor,
        kind=Kind.SHIP,
        params={"carrier": carrier.name, "waybills": numbers},
        lock=False,
    )
    quantities = dict(locked.lines.values_list("order_line_id", "quantity"))
    # A replacement (for returned goods, or re-shipped after a delivery exception) takes stock, not order quantities.
    replacement = locked.replaces_id or locked.replacement_for_id
    record = order_record_replacement if replacement else order_record_shipment
    record(order=order, quantities=quantities, document=locked.number, by=actor, warehouse_id=locked.warehouse_id)
    _record_unit_costs(locked)
    order_tracking_token(order=order)  # the customer's tracking link exists from the first shipment
    return locked


def _record_unit_costs(shipment: Shipment) -> None:
    """Each line keeps the ledger's unit cost of its product as it left (one UPDATE, as the order's lines are)."""
    costs = shipment_unit_costs(document=shipment.number, warehouse_id=shipment.warehouse_id)
    if costs:
        shipment.lines.update(
            unit_cost=Case(
                *[When(product_id=product_id, then=Value(cost)) for product_id, cost in costs.items()],
                default=None,
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )


@transaction.atomic
def shipment_cancel(*, shipment: Shipment, by, note: str = "") -> Shipment:
    """A shipment that has not left is abandoned: nothing was consumed, its units stay reserved for
    the order. A replacement (for returned or lost goods) held stock beyond the order's own need:
    that goes back to free stock."""
    actor = Actor.of(by)
    _require_shipper(actor)
    order = _lock_order(shipment.order_id)
    cancelled = transition_apply(obj=shipment, transition="cancel", actor=actor, kind=Kind.CANCEL, note=(note or "").strip())
    if cancelled.replaces_id is not None or cancelled.replacement_for_id is not None:
        quantities = dict(cancelled.lines.values_list("order_line_id", "quantity"))
        order_release_replacement(order=order, quantities=quantities, warehouse_id=cancelled.warehouse_id, by=actor)
    return cancelled

"""Every write of a transfer (调拨) between warehouses, and the reads its pages share.

Shipping posts a transfer_out at the source (the goods are then in transit, on no warehouse's
shelf); receiving posts a transfer_in at the destination of what arrived. What was shipped and
did not arrive is recorded on the line as lost, with the reason the receiver gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from config.transitions import transition_apply
from inventory.errors import InsufficientStock
from inventory.models import MovementKind, Product, Warehouse
from inventory.stock.services import queue_backorder_allocation, stock_levels_lock, stock_post_movement
from inventory.transfers.models import MAX_TRANSFER_QUANTITY, StockTransfer, StockTransferEvent, StockTransferLine

Kind = StockTransferEvent.Kind


def _require_transferer(actor: Actor) -> None:
    if not actor.has_perm("inventory.transfer_stock"):
        raise PermissionRefused(_("You are not allowed to transfer stock."))


def transfer_lock(*, transfer_id: int) -> StockTransfer:
    """Re-read the transfer under a row lock before acting on it."""
    return StockTransfer.objects.select_for_update(of=("self",)).select_related("source", "destination").get(pk=transfer_id)


@transaction.atomic
def transfer_create(*, source: Warehouse, destination: Warehouse, by: Actor | Any, note: str = "") -> StockTransfer:
    """A draft transfer between two different warehouses."""
    actor = Actor.of(by)
    _require_transferer(actor)
    if source.pk == destination.pk:
        raise DomainError(
            _("The source and the destination must be different warehouses."), "same_warehouse", field="destination"
        )
    if not destination.is_active:
        raise DomainError(_("Warehouse %(code)s is not active.") % {"code": destination.code}, "warehouse_inactive")
    transfer = StockTransfer.objects.create(
        number=document_number("stock_transfer"),
        source=source,
        destination=destination,
        note=note.strip(),
        created_by=actor.user_or_none,
    )
    StockTransferEvent.record(
        transfer,
        kind=Kind.CREATED,
        actor=actor,
        params={"source": source.code, "destination": destination.code},
        to_state=transfer.state,
    )
    return transfer


def _require_draft(transfer: StockTransfer) -> None:
    if not transfer.is_draft:
        raise DomainError(
            _("Transfer %(number)s is %(state)s: its lines can no longer change.")
            % {"number": transfer.number, "state": transfer.get_state_display()},
            "transfer_not_draft",
        )


@transaction.atomic
def transfer_add_line(*, transfer: StockTransfer, product: Product, quantity: int, by: Actor | Any) -> StockTransferLine:
    """Add a product to a draft; adding it again raises the quantity of its line."""
    _require_transferer(Actor.of(by))
    locked = transfer_lock(transfer_id=transfer.pk)
    _require_draft(locked)
    if not isinstance(quantity, int) or quantity <= 0:
        raise DomainError(_("The quantity must be a whole number above zero."), "invalid_quantity", field="quantity")
    line = locked.lines.filter(product=product).first()
    total = quantity + (line.quantity if line else 0)
    if total > MAX_TRANSFER_QUANTITY:
        raise DomainError(
            _("%(qty)s is more than one transfer line can hold.") % {"qty": total}, "invalid_quantity", field="quantity"
        )
    if line:
        line.quantity = total
        line.save(update_fields=["quantity"])
        return line
    line = StockTransferLine.objects.create(transfer=locked, product=product, quantity=quantity)
    locked.line_count = locked.lines.count()
    locked.save(update_fields=["line_count"])
    return line


@transaction.atomic
def transfer_remove_line(*, transfer: StockTransfer, line_id: int, by: Actor | Any) -> StockTransfer:
    """Take a line off a draft."""
    _require_transferer(Actor.of(by))
    locked = transfer_lock(transfer_id=transfer.pk)
    _require_draft(locked)
    deleted, _detail = locked.lines.filter(pk=line_id).delete()
    if not deleted:
        raise DomainError(_("That line is not on transfer %(number)s.") % {"number": locked.number}, "unknown_line")
    locked.line_count = locked.lines.count()
    locked.save(update_fields=["line_count"])
    return locked


@transaction.atomic
def transfer_ship(*, transfer: StockTransfer, by: Actor | Any) -> StockTransfer:
    """Ship a draft: every line must be free at the source (on hand − reserved); all lines post or none."""
    actor = Actor.of(by)
    locked = transfer_lock(transfer_id=transfer.pk)
    lines = list(locked.lines.select_related("product").order_by("pk"))
    locked.shipped_by = actor.user_or_none
    locked = transition_apply(
        obj=locked,
        transition="ship",
        actor=actor,
        kind=Kind.SHIP,
        params={"source": locked.source.code, "lines": len(lines), "units": sum(line.quantity for line in lines)},
        lock=False,
        update_fields=["shipped_by", "shipped_at"],
    )
    # Lock the source rows in primary-key order before checking them (no deadlock with allocation).
    levels = {
        product_id: level
        for (product_id, _wh), level in stock_levels_lock(pairs=[(line.product_id, locked.source_id) for line in lines]).items()
    }
    short = [
        _("%(sku)s: %(qty)s to ship, %(free)s free")
        % {"sku": line.product.sku, "qty": line.quantity, "free": levels[line.product_id].available}
        for line in lines
        if levels[line.product_id].available < line.quantity
    ]
    if short:
        raise InsufficientStock(
            _("Not enough free stock in %(wh)s: %(lines)s. Nothing was shipped.")
            % {"wh": locked.source.code, "lines": "; ".join(short)}
        )
    for line in lines:
        line.out_movement = stock_post_movement(
            product=line.product,
            warehouse=locked.source,
            kind=MovementKind.TRANSFER_OUT,
            quantity=-line.quantity,
            document=locked.number,
            by=actor.user_or_none,
            reason=gettext_noop("Transfer %(number)s to %(wh)s"),
            params={"number": locked.number, "wh": locked.destination.code},
        )
    StockTransferLine.objects.bulk_update(lines, ["out_movement"])
    return locked


@dataclass
class ReceivedLine:
    quantity: int
    reason: str = ""


def _receipt_problems(lines: list[StockTransferLine], received: dict[int, ReceivedLine]) -> list[str]:
    problems = []
    for line in lines:
        entry = received[line.pk]
        entry.reason = (entry.reason or "").strip()[:300]
        if not isinstance(entry.quantity, int) or entry.quantity < 0:
            problems.append(_("%(sku)s: the received quantity must be zero or more.") % {"sku": line.product.sku})
        elif entry.quantity > line.quantity:
            problems.append(
                _("%(sku)s: %(received)s received, but only %(shipped)s were shipped.")
                % {"sku": line.product.sku, "received": entry.quantity, "shipped": line.quantity}
            )
        elif entry.quantity < line.quantity and not entry.reason:
            problems.append(
                _("%(sku)s: %(missing)s missing; say why.") % {"sku": line.product.sku, "missing": line.quantity - entry.quantity}
            )
    return problems


@transaction.atomic
def transfer_receive(*, transfer: StockTransfer, received: dict[int, ReceivedLine], by: Actor | Any) -> StockTransfer:
    """Receive a shipped transfer: what arrived is posted in at the destination; a shortfall needs a reason and is lost."""
    actor = Actor.of(by)
    locked = transfer_lock(transfer_id=transfer.pk)
    lines = list(locked.lines.select_related("product").order_by("pk"))
    if set(received) != {line.pk for line in lines}:
        raise DomainError(
            _("Give the received quantity of every line of transfer %(number)s.") % {"number": locked.number}, "lines_missing"
        )
    problems = _receipt_problems(lines, received)
    if problems:
        raise DomainError(" ".join(str(p) for p in problems), "invalid_receipt", items=problems)
    shipped = sum(line.quantity for line in lines)
    arrived_units = sum(received[line.pk].quantity for line in lines)
    locked.received_by = actor.user_or_none
    locked = transition_apply(
        obj=locked,
        transition="receive",
        actor=actor,
        kind=Kind.RECEIVE,
        params={"shipped": shipped, "received": arrived_units, "lost": shipped - arrived_units},
        lock=False,
        update_fields=["received_by", "received_at"],
    )
    arrived = [line for line in lines if received[line.pk].quantity > 0]
    stock_levels_lock(pairs=[(line.product_id, locked.destination_id) for line in arrived])
    for line in lines:
        entry = received[line.pk]
        line.received_quantity = entry.quantity
        line.discrepancy_reason = entry.reason if entry.quantity < line.quantity else ""
        if entry.quantity > 0:
            line.in_movement = stock_post_movement(
                product=line.product,
                warehouse=locked.destination,
                kind=MovementKind.TRANSFER_IN,
                quantity=entry.quantity,
                document=locked.number,
                by=actor.user_or_none,
                reason=gettext_noop("Transfer %(number)s from %(wh)s"),
                params={"number": locked.number, "wh": locked.source.code},
            )
    StockTransferLine.objects.bulk_update(lines, ["received_quantity", "discrepancy_reason", "in_movement"])
    queue_backorder_allocation(product_ids=[line.product_id for line in arrived])
    return locked


@transaction.atomic
def transfer_cancel(*, transfer: StockTransfer, by: Actor | Any) -> StockTransfer:
    """Cancel a draft; nothing had moved."""
    actor = Actor.of(by)
    locked = transfer_lock(transfer_id=transfer.pk)
    locked.cancelled_by = actor.user_or_none
    return transition_apply(
        obj=locked, transition="cancel", actor=actor, kind=Kind.CANCEL, lock=False, update_fields=["cancelled_by", "cancelled_at"]
    )


# --- reads the transfer pages share ----------------------------------------------------------------


def transfer_list() -> QuerySet[StockTransfer]:
    """Transfers for the list page, newest first."""
    return StockTransfer.objects.select_related("source", "destination", "created_by").order_by("-created_at", "-pk")


def transfer_lines(*, transfer: StockTransfer) -> QuerySet[StockTransferLine]:
    return transfer.lines.select_related("product").order_by("product__sku", "pk")


def transfer_events(*, transfer: StockTransfer) -> QuerySet[StockTransferEvent]:
    """The transfer's timeline, oldest first, with who acted (one query)."""
    return transfer.events.select_related("by").order_by("at", "pk")

"""Every write of a transfer (调拨) between warehouses, and the reads its pages share.

Shipping posts a transfer_out at the source (the goods are then in transit, on no warehouse's
shelf); receiving posts a transfer_in at the destination of what arrived. What was shipped and
did not arrive is recorded on the line as lost, with the reason the receiver gave.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from config.numbering import next_number

from .errors import InsufficientStock, InventoryError
from .models import MovementKind, Product, Warehouse
from .services import queue_backorder_allocation, stock_levels_lock, stock_post_movement
from .transfer_models import MAX_TRANSFER_QUANTITY, StockTransfer, StockTransferLine, TransferState


class TransferError(InventoryError):
    """A transfer rule refused the action; the message is shown to the user as is."""


# What each transition is called in a refusal message.
ACTION_LABELS = {
    "ship": gettext_lazy("ship"),
    "receive": gettext_lazy("receive"),
    "cancel": gettext_lazy("cancel"),
}


def transfer_number_for(*, year: int, value: int) -> str:
    return f"TR-{year}-{value:04d}"


def transfer_lock(*, transfer_id: int) -> StockTransfer:
    """Re-read the transfer under a row lock before acting on it."""
    return StockTransfer.objects.select_for_update().select_related("source", "destination").get(pk=transfer_id)


def _check_transition(*, transfer: StockTransfer, method, by) -> None:
    if not can_proceed(method):
        if method.__name__ == "ship" and transfer.state == TransferState.DRAFT:
            raise TransferError(_("Transfer %(number)s has no lines to ship.") % {"number": transfer.number})
        raise TransferError(
            _("Transfer %(number)s cannot do “%(action)s” while it is %(state)s.")
            % {"number": transfer.number, "action": ACTION_LABELS[method.__name__], "state": transfer.get_state_display()}
        )
    if by is not None and not has_transition_perm(method, by):
        raise TransferError(_("You are not allowed to do that with this transfer."))


@transaction.atomic
def transfer_create(*, source: Warehouse, destination: Warehouse, by, note: str = "") -> StockTransfer:
    """A draft transfer between two different warehouses."""
    if not by.has_perm("inventory.transfer_stock"):
        raise TransferError(_("You are not allowed to transfer stock."))
    if source.pk == destination.pk:
        raise TransferError(_("The source and the destination must be different warehouses."))
    if not destination.is_active:
        raise TransferError(_("Warehouse %(code)s is not active.") % {"code": destination.code})
    year = timezone.localdate().year
    return StockTransfer.objects.create(
        number=transfer_number_for(year=year, value=next_number("stock_transfer", year)),
        source=source,
        destination=destination,
        note=note.strip(),
        created_by=by,
    )


def _require_draft(transfer: StockTransfer) -> None:
    if transfer.state != TransferState.DRAFT:
        raise TransferError(
            _("Transfer %(number)s is %(state)s: its lines can no longer change.")
            % {"number": transfer.number, "state": transfer.get_state_display()}
        )


@transaction.atomic
def transfer_add_line(*, transfer: StockTransfer, product: Product, quantity: int, by) -> StockTransferLine:
    """Add a product to a draft; adding it again raises the quantity of its line."""
    if not by.has_perm("inventory.transfer_stock"):
        raise TransferError(_("You are not allowed to transfer stock."))
    locked = transfer_lock(transfer_id=transfer.pk)
    _require_draft(locked)
    if not isinstance(quantity, int) or quantity <= 0:
        raise TransferError(_("The quantity must be a whole number above zero."))
    line = locked.lines.filter(product=product).first()
    total = quantity + (line.quantity if line else 0)
    if total > MAX_TRANSFER_QUANTITY:
        raise TransferError(_("%(qty)s is more than one transfer line can hold.") % {"qty": total})
    if line:
        line.quantity = total
        line.save(update_fields=["quantity"])
        return line
    line = StockTransferLine.objects.create(transfer=locked, product=product, quantity=quantity)
    locked.line_count = locked.lines.count()
    locked.save(update_fields=["line_count"])
    return line


@transaction.atomic
def transfer_remove_line(*, transfer: StockTransfer, line_id: int, by) -> StockTransfer:
    """Take a line off a draft."""
    if not by.has_perm("inventory.transfer_stock"):
        raise TransferError(_("You are not allowed to transfer stock."))
    locked = transfer_lock(transfer_id=transfer.pk)
    _require_draft(locked)
    deleted, _detail = locked.lines.filter(pk=line_id).delete()
    if not deleted:
        raise TransferError(_("That line is not on transfer %(number)s.") % {"number": locked.number})
    locked.line_count = locked.lines.count()
    locked.save(update_fields=["line_count"])
    return locked


@transaction.atomic
def transfer_ship(*, transfer: StockTransfer, by) -> StockTransfer:
    """Ship a draft: every line must be free at the source (on hand − reserved); all lines post or none."""
    locked = transfer_lock(transfer_id=transfer.pk)
    _check_transition(transfer=locked, method=locked.ship, by=by)
    lines = list(locked.lines.select_related("product").order_by("pk"))
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
            by=by,
            reason=_("Transfer %(number)s to %(wh)s") % {"number": locked.number, "wh": locked.destination.code},
        )
    StockTransferLine.objects.bulk_update(lines, ["out_movement"])
    locked.ship()
    locked.shipped_by = by
    locked.shipped_at = timezone.now()
    locked.save(update_fields=["state", "shipped_by", "shipped_at"])
    return locked


@dataclass
class ReceivedLine:
    quantity: int
    reason: str = ""


@transaction.atomic
def transfer_receive(*, transfer: StockTransfer, received: dict[int, ReceivedLine], by) -> StockTransfer:
    """Receive a shipped transfer: what arrived is posted in at the destination; a shortfall needs a reason and is lost."""
    locked = transfer_lock(transfer_id=transfer.pk)
    _check_transition(transfer=locked, method=locked.receive, by=by)
    lines = list(locked.lines.select_related("product").order_by("pk"))
    if set(received) != {line.pk for line in lines}:
        raise TransferError(_("Give the received quantity of every line of transfer %(number)s.") % {"number": locked.number})
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
    if problems:
        raise TransferError(" ".join(str(p) for p in problems))
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
                by=by,
                reason=_("Transfer %(number)s from %(wh)s") % {"number": locked.number, "wh": locked.source.code},
            )
    StockTransferLine.objects.bulk_update(lines, ["received_quantity", "discrepancy_reason", "in_movement"])
    locked.receive()
    locked.received_by = by
    locked.received_at = timezone.now()
    locked.save(update_fields=["state", "received_by", "received_at"])
    queue_backorder_allocation(product_ids=[line.product_id for line in arrived])
    return locked


@transaction.atomic
def transfer_cancel(*, transfer: StockTransfer, by) -> StockTransfer:
    """Cancel a draft; nothing had moved."""
    locked = transfer_lock(transfer_id=transfer.pk)
    _check_transition(transfer=locked, method=locked.cancel, by=by)
    locked.cancel()
    locked.cancelled_by = by
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["state", "cancelled_by", "cancelled_at"])
    return locked


# --- reads the transfer pages share ----------------------------------------------------------------


def transfer_list() -> QuerySet[StockTransfer]:
    """Transfers for the list page, newest first."""
    return StockTransfer.objects.select_related("source", "destination", "created_by").order_by("-created_at", "-pk")


def transfer_lines(*, transfer: StockTransfer) -> QuerySet[StockTransferLine]:
    return transfer.lines.select_related("product").order_by("product__sku", "pk")

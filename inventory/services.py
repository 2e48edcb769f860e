"""Every write to stock: posting ledger movements (and, in the modules beside this one,
allocation, counts, transfers and replenishment)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .errors import InsufficientStock, InventoryError
from .models import MovementKind, Product, StockLevel, StockMovement, Warehouse


def stock_level_lock(*, product: Product, warehouse: Warehouse) -> StockLevel:
    """The product's stock row in the warehouse, created if missing, locked until commit."""
    StockLevel.objects.bulk_create([StockLevel(product=product, warehouse=warehouse)], ignore_conflicts=True)
    return StockLevel.objects.select_for_update().get(product=product, warehouse=warehouse)


@transaction.atomic
def stock_post_movement(
    *, product: Product, warehouse: Warehouse, kind: str, quantity: int, reason: str = "", document: str = "",
    by=None, reverses: StockMovement | None = None,
) -> StockMovement:
    """Append one ledger movement and move on hand by the same quantity, in one transaction.

    Stock going out may not take on hand below what is reserved (the CHECK constraints would
    refuse it anyway; this says why in the user's words).
    """
    if quantity == 0:
        raise InventoryError(_("A stock movement needs a quantity other than zero."))
    if kind not in MovementKind.values:
        raise InventoryError(_("Unknown kind of stock movement."))
    if not warehouse.is_active and quantity > 0 and kind != MovementKind.TRANSFER_IN:
        raise InventoryError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code})
    level = stock_level_lock(product=product, warehouse=warehouse)
    if level.on_hand + quantity < level.reserved:
        raise InsufficientStock(
            _("%(sku)s in %(wh)s: %(on_hand)s on hand, %(reserved)s reserved; cannot take %(qty)s out.")
            % {"sku": product.sku, "wh": warehouse.code, "on_hand": level.on_hand, "reserved": level.reserved, "qty": -quantity}
        )
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    movement = StockMovement.objects.create(
        product=product, warehouse=warehouse, kind=kind, quantity=quantity, reason=reason,
        document=document, created_by=by, reverses=reverses,
    )
    return movement


@transaction.atomic
def stock_reverse_movement(*, movement: StockMovement, reason: str, by=None) -> StockMovement:
    """Correct a mistaken movement with its exact opposite; the original stays in the ledger."""
    if not reason.strip():
        raise InventoryError(_("Say why the movement is reversed."))
    if movement.reversals.exists():
        raise InventoryError(_("This movement was already reversed."))
    return stock_post_movement(
        product=movement.product, warehouse=movement.warehouse, kind=movement.kind, quantity=-movement.quantity,
        reason=reason, document=movement.document, by=by, reverses=movement,
    )

"""Writes to the product catalogue: create, edit, deactivate (products are never deleted: order lines name them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from inventory.models import Product

PRODUCT_FIELDS = [
    "sku",
    "barcode",
    "name",
    "category",
    "unit",
    "list_price",
    "cost",
    "tax_rate",
    "tax_classification_code",
    "min_price",
    "max_discount_percent",
    "description",
]


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to change the catalogue."))


def _assign(product: Product, data: Mapping[str, Any]) -> None:
    for name in [*PRODUCT_FIELDS, "is_active"]:
        if name in data:
            setattr(product, name, data[name])
    if isinstance(product.barcode, str):
        product.barcode = product.barcode.strip() or None  # empty is "no barcode", stored as NULL
    if isinstance(product.sku, str):
        product.sku = product.sku.strip()


def _save(product: Product) -> None:
    """Save; a duplicate SKU or barcode that slipped past validation (a race) becomes a field error."""
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        text = str(exc)
        if "barcode" in text:
            raise DomainError(_("Another product already has this barcode."), "duplicate_barcode", field="barcode")
        if "sku" in text:
            raise DomainError(_("Another product already has this SKU."), "duplicate_sku", field="sku")
        raise


@transaction.atomic
def product_create(*, data: Mapping[str, Any], by: Actor | Any) -> Product:
    """A new product; SKU and barcode are unique, an empty barcode is stored as none."""
    _require(Actor.of(by), "inventory.add_product")
    product = Product()
    _assign(product, data)
    product.full_clean()
    _save(product)
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, Any], by: Actor | Any) -> Product:
    """Edit a product under a row lock; prices on existing order lines do not change."""
    _require(Actor.of(by), "inventory.change_product")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    _assign(locked, data)
    locked.full_clean()
    _save(locked)
    return locked


@transaction.atomic
def product_set_active(*, product: Product, active: bool, by: Actor | Any) -> Product:
    """Deactivate instead of delete: an inactive product cannot be put on new orders but stays on old ones."""
    _require(Actor.of(by), "inventory.change_product")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
    return locked

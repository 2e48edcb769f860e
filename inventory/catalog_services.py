"""Writes to the product catalogue: create, edit, deactivate (products are never deleted: order lines name them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Product

PRODUCT_FIELDS = [
    "sku",
    "barcode",
    "name",
    "unit",
    "list_price",
    "cost",
    "tax_rate",
    "min_price",
    "max_discount_percent",
    "description",
]


class CatalogError(Exception):
    """A catalogue rule refused the change; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
            raise CatalogError(_("Another product already has this barcode."), field="barcode")
        if "sku" in text:
            raise CatalogError(_("Another product already has this SKU."), field="sku")
        raise


@transaction.atomic
def product_create(*, data: Mapping[str, Any], by=None) -> Product:
    """A new product; SKU and barcode are unique, an empty barcode is stored as none."""
    product = Product()
    _assign(product, data)
    product.full_clean()
    _save(product)
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, Any], by=None) -> Product:
    """Edit a product under a row lock; prices on existing order lines do not change."""
    locked = Product.objects.select_for_update().get(pk=product.pk)
    _assign(locked, data)
    locked.full_clean()
    _save(locked)
    return locked


@transaction.atomic
def product_set_active(*, product: Product, active: bool, by=None) -> Product:
    """Deactivate instead of delete: an inactive product cannot be put on new orders but stays on old ones."""
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
    return locked


def as_form_error(form, exc: Exception) -> None:
    """Show a refused catalogue change on its form field (or on top of the form)."""
    if isinstance(exc, CatalogError):
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))

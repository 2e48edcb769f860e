"""Forms of the stock pages: goods receipt, adjustment, reversal, allocation runs, replenishment."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.models import Product, Warehouse
from inventory.stock.selectors import product_by_code
from inventory.stock.services import MAX_MOVEMENT_QUANTITY

MAX_SCANNED_LINES = 500
_QUANTITY_SUFFIX = re.compile(r"^(?P<code>.+?)(?:\s*[,;\t]\s*|\s+[x×*]?\s*)(?P<qty>-?\d+)$", re.IGNORECASE)


def _active_warehouses():
    return Warehouse.objects.filter(is_active=True).order_by("priority", "code")


def parse_product_lines(text: str) -> dict[Product, int]:
    """Lines of "CODE" (one unit, as a scanner types it) or "CODE QUANTITY", CODE a barcode or SKU;
    the same product on several lines adds up. Raises ValidationError naming every bad line."""
    lines = [(n, raw.strip()) for n, raw in enumerate((text or "").splitlines(), start=1) if raw.strip()]
    if len(lines) > MAX_SCANNED_LINES:
        raise ValidationError(_("At most %(max)s lines at a time.") % {"max": MAX_SCANNED_LINES})
    # Each line is read as a whole code first (barcodes may contain spaces), else as code + quantity.
    readings: list[tuple[int, list[tuple[str, int]]]] = []
    for n, line in lines:
        candidates = [(line, 1)]
        if match := _QUANTITY_SUFFIX.match(line):
            candidates.append((match["code"].strip(), int(match["qty"])))
        readings.append((n, candidates))
    codes = {code for _n, candidates in readings for code, _qty in candidates}
    products = Product.objects.annotate(sku_upper=Upper("sku")).filter(
        Q(barcode__in=codes) | Q(sku_upper__in={code.upper() for code in codes})
    )
    by_barcode = {p.barcode: p for p in products if p.barcode}
    by_sku = {p.sku.upper(): p for p in products}
    quantities: dict[Product, int] = {}
    errors: list[str] = []
    for n, candidates in readings:
        found = [(by_barcode.get(code) or by_sku.get(code.upper()), qty) for code, qty in candidates]
        found = [(product, qty) for product, qty in found if product is not None]
        if not found:
            code = candidates[-1][0]
            errors.append(_("Line %(n)s: no product has the barcode or SKU “%(code)s”.") % {"n": n, "code": code[:60]})
            continue
        product, qty = found[0]
        if qty <= 0 or qty > MAX_MOVEMENT_QUANTITY:
            errors.append(_("Line %(n)s: the quantity must be between 1 and %(max)s.") % {"n": n, "max": MAX_MOVEMENT_QUANTITY})
            continue
        quantities[product] = quantities.get(product, 0) + qty
    for product, qty in quantities.items():
        if qty > MAX_MOVEMENT_QUANTITY:
            errors.append(_("%(sku)s: at most %(max)s units at a time.") % {"sku": product.sku, "max": MAX_MOVEMENT_QUANTITY})
    if errors:
        raise ValidationError(errors)
    if not quantities:
        raise ValidationError(_("Scan or enter at least one product."))
    return quantities


class ProductLinesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        return parse_product_lines(super().clean(value))


class ReceiptForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=_active_warehouses())
    reference = forms.CharField(
        label=_("Delivery note"), max_length=100, required=False, help_text=_("The supplier's delivery note number.")
    )
    lines = ProductLinesField(
        label=_("Received goods"),
        help_text=_("One barcode or SKU per line (each scan is one unit), or “SKU quantity”."),
    )


class AdjustForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=_active_warehouses())
    product = forms.CharField(label=_("Product"), max_length=60, help_text=_("Barcode or SKU."))
    quantity = forms.IntegerField(
        label=_("Change"),
        min_value=-MAX_MOVEMENT_QUANTITY,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text=_("Positive adds stock, negative removes it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_product(self):
        code = self.cleaned_data["product"]
        product = product_by_code(code=code)
        if product is None:
            raise ValidationError(_("No product has the barcode or SKU “%(code)s”.") % {"code": code})
        return product

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise ValidationError(_("Enter a change other than zero."))
        return quantity

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the stock is adjusted."))
        return reason


class PlanningForm(forms.Form):
    safety_stock = forms.IntegerField(
        label=_("Safety stock"),
        min_value=0,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text=_("Free stock below this raises a low-stock alert."),
    )
    reorder_point = forms.IntegerField(
        label=_("Reorder point"),
        min_value=0,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text=_("At or below this (counting what is on order) the product is proposed for reordering."),
    )
    reorder_quantity = forms.IntegerField(
        label=_("Reorder quantity"),
        min_value=0,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text=_("The supplier's lot size; 0 orders up to reorder point + safety stock."),
    )


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the movement is reversed."))
        return reason


class ReplenishmentForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=_active_warehouses())
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    lines = ProductLinesField(label=_("Products"), help_text=_("“SKU quantity” per line (or scan: each scan is one unit)."))


class ProposalRequestForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), widget=forms.HiddenInput)


def receive_field_name(line_id: int) -> str:
    return f"received_{line_id}"


class ReplenishmentReceiveForm(forms.Form):
    """One quantity field per line still expected, plus the supplier's delivery note."""

    reference = forms.CharField(label=_("Delivery note"), max_length=100, required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.outstanding > 0]
        for line in self.lines:
            self.fields[receive_field_name(line.pk)] = forms.IntegerField(
                label=line.product.sku,
                min_value=0,
                max_value=line.outstanding,
                required=False,
                widget=forms.NumberInput(attrs={"min": 0, "max": line.outstanding}),
            )

    def rows(self):
        return [(line, self[receive_field_name(line.pk)]) for line in self.lines]

    def clean(self):
        data = super().clean()
        quantities = {line.pk: data.get(receive_field_name(line.pk)) or 0 for line in self.lines}
        if not any(quantities.values()) and not self.errors:
            raise ValidationError(_("Enter the quantity that arrived for at least one line."))
        data["quantities"] = quantities
        return data


def describe_received(quantities: dict[Product, int]) -> str:
    units = sum(quantities.values())
    return ngettext("%(units)s unit of %(products)s product", "%(units)s units of %(products)s product(s)", units) % {
        "units": units,
        "products": len(quantities),
    }

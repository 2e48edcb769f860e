"""The product form: every field says clearly what is wrong with what was typed."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.catalog.services import PRODUCT_FIELDS
from inventory.models import Product


class TaxRateField(forms.DecimalField):
    """A tax rate typed as 0.13, 13 or 13 % (whole numbers are percentages), kept as a fraction."""

    def __init__(self, **kwargs):
        for name in ("max_value", "min_value", "max_digits", "decimal_places"):
            kwargs.pop(name, None)
        super().__init__(**kwargs)
        self.validators = []

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().replace(" ", "")
        percent = text.endswith("%")
        try:
            rate = Decimal(text.rstrip("%"))
        except InvalidOperation:
            raise forms.ValidationError(_("Enter the tax rate as 0.13, 13 or 13%."), code="invalid")
        if not rate.is_finite():
            raise forms.ValidationError(_("Enter the tax rate as 0.13, 13 or 13%."), code="invalid")
        if percent or rate >= 1:
            rate = rate / Decimal(100)
        if rate < 0 or rate > 1:
            raise forms.ValidationError(_("A tax rate is between 0 and 100 %."), code="range")
        if rate != rate.quantize(Decimal("0.0001")):
            raise forms.ValidationError(_("A tax rate has at most two decimals in percent, e.g. 6.5%."), code="precision")
        return rate.quantize(Decimal("0.0001"))

    def widget_attrs(self, widget):
        return {}


class ProductForm(forms.ModelForm):
    tax_rate = TaxRateField(
        label=_("Tax rate"),
        help_text=_("0.13, 13 or 13% all mean 13 %."),
        initial=lambda: Product._meta.get_field("tax_rate").default,
    )

    class Meta:
        model = Product
        fields = PRODUCT_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("list_price", "cost", "min_price"):
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["max_discount_percent"].widget.attrs.update({"min": "0", "max": "100", "step": "0.5"})
        self.fields["barcode"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        self.fields["sku"].widget.attrs["autofocus"] = True

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        if not sku.isprintable() or any(c.isspace() for c in sku):
            raise forms.ValidationError(_("A SKU has no spaces, e.g. CUP-500-SS."))
        clash = Product.objects.filter(sku__iexact=sku).exclude(pk=self.instance.pk).first()
        if clash is not None:
            raise forms.ValidationError(_("The SKU %(sku)s is already used by %(product)s.") % {"sku": sku, "product": clash})
        return sku

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the product's name."))
        return name


class ProductImportForm(ProductForm):
    """One imported row: the form's fields plus the active flag."""

    class Meta(ProductForm.Meta):
        fields = [*PRODUCT_FIELDS, "is_active"]

"""Forms and filters of the transfer pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.models import Warehouse
from inventory.stock.selectors import product_by_code
from inventory.transfers.models import MAX_TRANSFER_QUANTITY, StockTransfer, TransferState


class TransferFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label=_("Number"))
    source = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.order_by("priority", "code"), label=_("From warehouse"))
    destination = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.order_by("priority", "code"), label=_("To warehouse")
    )
    state = django_filters.ChoiceFilter(choices=TransferState.choices, label=_("State"))
    ordering = SortFilter(
        fields=(("created_at", "created"), ("number", "number")),
        field_labels={"created_at": _("Created"), "number": _("Number")},
        label=_("Sort by"),
    )

    class Meta:
        model = StockTransfer
        fields = ["q", "source", "destination", "state"]


class TransferCreateForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Warehouse.objects.order_by("priority", "code"), label=_("From warehouse"))
    destination = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True).order_by("priority", "code"), label=_("To warehouse")
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("destination") and data["source"] == data["destination"]:
            self.add_error("destination", _("The source and the destination must be different warehouses."))
        return data


class TransferLineForm(forms.Form):
    code = forms.CharField(label=_("Product (SKU or barcode)"), max_length=100)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_TRANSFER_QUANTITY,
        error_messages={"invalid": _("Enter a whole number.")},
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        product = product_by_code(code=code)
        if product is None:
            raise forms.ValidationError(_("No product has the barcode or SKU “%(code)s”."), params={"code": code})
        self.cleaned_data["product"] = product
        return code


def received_field_name(line_id: int) -> str:
    return f"received-{line_id}"


def reason_field_name(line_id: int) -> str:
    return f"reason-{line_id}"


class TransferReceiveForm(forms.Form):
    """What arrived of each line; a line that arrived short needs a reason."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[received_field_name(line.pk)] = forms.IntegerField(
                label=_("Received"),
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                widget=forms.NumberInput(attrs={"class": "transfer-input", "inputmode": "numeric", "aria-label": _("Received")}),
                error_messages={
                    "invalid": _("Enter a whole number."),
                    "max_value": _("Only %(limit_value)s were shipped."),
                },
            )
            self.fields[reason_field_name(line.pk)] = forms.CharField(
                label=_("Reason for the difference"), max_length=300, required=False
            )

    def clean(self):
        data = super().clean()
        for line in self.lines:
            received = data.get(received_field_name(line.pk))
            if received is not None and received < line.quantity and not (data.get(reason_field_name(line.pk)) or "").strip():
                self.add_error(reason_field_name(line.pk), _("Say why %(n)s did not arrive.") % {"n": line.quantity - received})
        return data

    def rows(self):
        """(line, received field, reason field) for the template."""
        return [(line, self[received_field_name(line.pk)], self[reason_field_name(line.pk)]) for line in self.lines]

"""Forms and filters of the shipment pages (tablet-friendly: big inputs, one scan field)."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.models import Warehouse
from logistics.models import Carrier, Shipment, ShipmentState
from logistics.shipments.selectors import shipment_search
from logistics.shipments.services import MAX_PARCELS, MAX_WAYBILL_LENGTH

MAX_MONEY = Decimal("999999999999.99")


class ShipmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number or waybill"))
    state = django_filters.ChoiceFilter(choices=ShipmentState.choices, label=_("State"))
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.order_by("name"), label=_("Carrier"))
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.order_by("priority", "code"), label=_("Warehouse"))
    ordering = SortFilter(
        fields=(("created_at", "created"), ("number", "number"), ("shipped_at", "shipped")),
        field_labels={"created_at": _("Created"), "number": _("Number"), "shipped_at": _("Shipped")},
        label=_("Sort by"),
    )

    class Meta:
        model = Shipment
        fields = ["q", "state", "carrier", "warehouse"]

    def search(self, queryset, name, value):
        return shipment_search(queryset, value)


class ScanForm(forms.Form):
    code = forms.CharField(label=_("Scan a barcode or type a SKU"), max_length=100)
    parcel = forms.IntegerField(label=_("Parcel"), min_value=1, max_value=MAX_PARCELS, initial=1)
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=10_000, initial=1)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


def pick_quantity_field(*, pickable: int, label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=pickable,
        initial=pickable,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class PickForm(forms.Form):
    """One quantity per order line with units reserved in the warehouse and not on a shipment yet."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"line_{row['line'].pk}"] = pick_quantity_field(
                pickable=row["pickable"], label=f"{row['line'].product.sku} {row['line'].product.name}"
            )

    def quantities(self) -> dict[int, int]:
        return {row["line"].pk: self.cleaned_data.get(f"line_{row['line'].pk}") or 0 for row in self.rows}

    def bound_rows(self):
        return [{**row, "field": self[f"line_{row['line'].pk}"]} for row in self.rows]


class PackForm(forms.Form):
    """Weight (required) and size (optional) of each parcel."""

    def __init__(self, *args, parcels, **kwargs):
        super().__init__(*args, **kwargs)
        self.parcels = parcels
        for parcel in parcels:
            i = parcel.index
            self.fields[f"weight_{i}"] = forms.DecimalField(
                label=_("Weight (kg)"), max_digits=8, decimal_places=3, min_value=Decimal("0.001"), initial=parcel.weight_kg
            )
            for dim, label in (("length", _("Length (cm)")), ("width", _("Width (cm)")), ("height", _("Height (cm)"))):
                self.fields[f"{dim}_{i}"] = forms.IntegerField(
                    label=label, min_value=1, max_value=10_000, required=False, initial=getattr(parcel, f"{dim}_cm")
                )

    def rows(self):
        return [
            {"parcel": p, "fields": [self[f"{name}_{p.index}"] for name in ("weight", "length", "width", "height")]}
            for p in self.parcels
        ]


class ShipForm(forms.Form):
    """Carrier, service, one waybill per parcel, ETA, insured value, cash on delivery."""

    carrier = forms.ModelChoiceField(queryset=Carrier.objects.filter(active=True).order_by("name"), label=_("Carrier"))
    service = forms.CharField(label=_("Service"), max_length=60, required=False)
    eta = forms.DateField(
        label=_("Expected delivery"),
        required=False,
        help_text=_("Empty: today plus the carrier's usual transit days."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    insured_value = forms.DecimalField(
        label=_("Insured value"),
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_MONEY)],
    )
    cod_amount = forms.DecimalField(
        label=_("Cash on delivery"),
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_MONEY)],
    )

    def __init__(self, *args, parcels, **kwargs):
        super().__init__(*args, **kwargs)
        self.parcels = parcels
        for parcel in parcels:
            self.fields[f"waybill_{parcel.index}"] = forms.CharField(
                label=_("Waybill number, parcel %(index)s") % {"index": parcel.index}, max_length=MAX_WAYBILL_LENGTH
            )

    def waybills(self) -> list[str]:
        return [self.cleaned_data[f"waybill_{parcel.index}"] for parcel in self.parcels]

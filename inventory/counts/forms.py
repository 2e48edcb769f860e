"""Forms and filters of the stock count pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.counts.models import MAX_COUNTED_QUANTITY, StockCount, StockCountState
from inventory.models import Warehouse


class StockCountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label=_("Number"))
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.order_by("priority", "code"), label=_("Warehouse"))
    state = django_filters.ChoiceFilter(choices=StockCountState.choices, label=_("State"))
    ordering = SortFilter(
        fields=(("opened_at", "opened"), ("number", "number")),
        field_labels={"opened_at": _("Opened"), "number": _("Number")},
        label=_("Sort by"),
    )

    class Meta:
        model = StockCount
        fields = ["q", "warehouse", "state"]


class StockCountOpenForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True).order_by("priority", "code"), label=_("Warehouse")
    )
    sku_prefix = forms.CharField(
        label=_("SKU starts with"), max_length=40, required=False, help_text=_("Leave empty to count every product.")
    )
    search = forms.CharField(label=_("Name, SKU or barcode contains"), max_length=100, required=False)
    only_in_stock = forms.BooleanField(label=_("Only products with stock in this warehouse"), required=False)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class CountLineFilterForm(forms.Form):
    """Narrows the lines shown on a count's page (a long count is worked through in parts)."""

    SHOW_CHOICES = [
        ("", _("All lines")),
        ("uncounted", _("Not counted yet")),
        ("counted", _("Counted")),
        ("variance", _("With a difference")),
    ]
    q = forms.CharField(label=_("SKU, name or barcode"), max_length=100, required=False)
    show = forms.ChoiceField(label=_("Show"), choices=SHOW_CHOICES, required=False)


def counted_field_name(line_id: int) -> str:
    return f"counted-{line_id}"


class CountEntryForm(forms.Form):
    """Typed counted quantities for the lines shown on one page; an empty box means not counted."""

    def __init__(self, *args, line_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.line_ids = line_ids
        for line_id in line_ids:
            self.fields[counted_field_name(line_id)] = forms.IntegerField(
                label=_("Counted"),
                required=False,
                min_value=0,
                max_value=MAX_COUNTED_QUANTITY,
                error_messages={"invalid": _("Enter a whole number.")},
                widget=forms.NumberInput(attrs={"class": "count-input", "inputmode": "numeric", "aria-label": _("Counted")}),
            )

    def quantities(self) -> dict[int, int | None]:
        return {line_id: self.cleaned_data.get(counted_field_name(line_id)) for line_id in self.line_ids}


class ScanForm(forms.Form):
    code = forms.CharField(label=_("Scan a barcode or type a SKU"), max_length=100)


class StockCountPostForm(forms.Form):
    allow_uncounted = forms.BooleanField(label=_("Leave the lines that were not counted as they are"), required=False)


class StockCountCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300)

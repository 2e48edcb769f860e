"""Forms and filters of the return pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.models import Warehouse
from logistics.returns.models import ReturnOutcome, ReturnReason, ReturnRequest, ReturnState
from logistics.returns.selectors import return_search
from logistics.returns.services import MAX_DETAILS, LineOutcome


class ReturnFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number, order or customer"))
    state = django_filters.ChoiceFilter(choices=ReturnState.choices, label=_("State"))
    reason = django_filters.ChoiceFilter(choices=ReturnReason.choices, label=_("Reason"))
    ordering = SortFilter(
        fields=(("created_at", "opened"), ("number", "number"), ("received_at", "received")),
        field_labels={"created_at": _("Opened"), "number": _("Number"), "received_at": _("Received")},
        label=_("Sort by"),
    )

    class Meta:
        model = ReturnRequest
        fields = ["q", "state", "reason"]

    def search(self, queryset, name, value):
        return return_search(queryset, value)


class ReturnOpenForm(forms.Form):
    """One quantity per order line that may still come back, the reason and what the customer said."""

    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *ReturnReason.choices])
    details = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_DETAILS, required=False
    )

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Choose a reason")), *ReturnReason.choices]
        self.rows = rows
        for row in rows:
            line = row["line"]
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.product.sku} {line.product.name}",
                min_value=0,
                max_value=row["returnable"],
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def quantities(self) -> dict[int, int]:
        return {row["line"].pk: self.cleaned_data.get(f"line_{row['line'].pk}") or 0 for row in self.rows}

    def bound_rows(self):
        return [{**row, "field": self[f"line_{row['line'].pk}"]} for row in self.rows]


class ReturnReceiveForm(forms.Form):
    """Per return line: its outcome and, to restock, the warehouse."""

    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        warehouses = Warehouse.objects.filter(is_active=True).order_by("priority", "code")
        default_warehouse = warehouses.first()
        for line in lines:
            self.fields[f"outcome_{line.pk}"] = forms.ChoiceField(
                label=_("Outcome"), choices=[("", _("Choose")), *ReturnOutcome.choices]
            )
            self.fields[f"warehouse_{line.pk}"] = forms.ModelChoiceField(
                label=_("Restock in"), queryset=warehouses, required=False, initial=default_warehouse
            )

    def clean(self):
        data = super().clean()
        for line in self.lines:
            if data.get(f"outcome_{line.pk}") == ReturnOutcome.RESTOCK and not data.get(f"warehouse_{line.pk}"):
                self.add_error(f"warehouse_{line.pk}", _("Choose the warehouse to restock it in."))
        return data

    def outcomes(self) -> dict[int, LineOutcome]:
        found = {}
        for line in self.lines:
            warehouse = self.cleaned_data.get(f"warehouse_{line.pk}")
            found[line.pk] = LineOutcome(
                outcome=self.cleaned_data[f"outcome_{line.pk}"], warehouse_id=warehouse.pk if warehouse else None
            )
        return found

    def rows(self):
        return [
            {"line": line, "outcome": self[f"outcome_{line.pk}"], "warehouse": self[f"warehouse_{line.pk}"]}
            for line in self.lines
        ]


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

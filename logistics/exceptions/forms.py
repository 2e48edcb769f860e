"""Forms and the filter of the delivery exception pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from logistics.exceptions.models import DeliveryException, ExceptionKind, ExceptionOutcome, ExceptionState
from logistics.exceptions.selectors import exception_search
from logistics.exceptions.services import HAND_KINDS, MAX_NOTE


class ExceptionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Shipment, order, customer or waybill"))
    state = django_filters.ChoiceFilter(choices=ExceptionState.choices, label=_("State"))
    kind = django_filters.ChoiceFilter(choices=ExceptionKind.choices, label=_("Kind"))
    escalated = django_filters.BooleanFilter(field_name="escalated_at", lookup_expr="isnull", exclude=True, label=_("Escalated"))
    ordering = SortFilter(
        fields=(("opened_at", "opened"), ("since", "since")),
        field_labels={"opened_at": _("Opened"), "since": _("Since")},
        label=_("Sort by"),
    )

    class Meta:
        model = DeliveryException
        fields = ["q", "state", "kind", "escalated"]

    def search(self, queryset, name, value):
        return exception_search(queryset, value)


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What happened"), choices=[(k, label) for k, label in ExceptionKind.choices if k in HAND_KINDS]
    )
    since = forms.DateTimeField(
        label=_("Since"),
        required=False,
        help_text=_("When it happened or was noticed; empty: now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_NOTE, required=False)


OUTCOME_CHOICES = [(k, label) for k, label in ExceptionOutcome.choices if k != ExceptionOutcome.DELIVERED]


class ResolveForm(forms.Form):
    """The outcome, the units it covers (re-ship, refund) and a note (required to close)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_NOTE, required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"qty_{line.order_line_id}"] = forms.IntegerField(
                label=f"{line.sku} {line.name}",
                min_value=0,
                max_value=line.shipped,
                initial=line.shipped,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def quantities(self) -> dict[int, int]:
        return {line.order_line_id: self.cleaned_data.get(f"qty_{line.order_line_id}") or 0 for line in self.lines}

    def line_fields(self):
        return [(line, self[f"qty_{line.order_line_id}"]) for line in self.lines]

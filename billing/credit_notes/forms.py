"""Forms and filters of the credit note pages."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.credit_notes.services import Creditable, CreditRequest
from billing.models import CreditNote, CreditNoteReason, CreditNoteStatus
from billing.validation import validate_red_letter_number
from config.filters import SortFilter


class CreditNoteFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number, invoice or buyer"))
    status = django_filters.ChoiceFilter(choices=CreditNoteStatus.choices, label=_("Status"))
    reason = django_filters.ChoiceFilter(choices=CreditNoteReason.choices, label=_("Reason"))
    ordering = SortFilter(
        fields=(("created_at", "created"), ("issued_at", "issued"), ("total_gross", "total")),
        field_labels={"created_at": _("Created"), "issued_at": _("Issued"), "total_gross": _("Total")},
        label=_("Sort by"),
    )

    class Meta:
        model = CreditNote
        fields = ["q", "status", "reason"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(invoice__number__icontains=value) | Q(invoice__buyer_name__icontains=value)
        )


class CreditNoteForm(forms.Form):
    """Reason, red-letter number and, per invoice line, the units or the net amount to take back."""

    reason = forms.ChoiceField(label=_("Reason"), choices=CreditNoteReason.choices)
    red_letter_number = forms.CharField(
        label=_("Red-letter confirmation number"), max_length=20, required=False, validators=[validate_red_letter_number]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    everything = forms.BooleanField(label=_("Credit everything still creditable"), required=False)

    def __init__(self, *args, rows: list[Creditable], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for item in rows:
            self.fields[f"qty_{item.line.pk}"] = forms.IntegerField(
                label=_("Units"), min_value=0, max_value=item.quantity, required=False
            )
            self.fields[f"net_{item.line.pk}"] = forms.DecimalField(
                label=_("Net amount"),
                max_digits=14,
                decimal_places=2,
                required=False,
                validators=[MinValueValidator(Decimal("0"))],
                max_value=item.net,
            )

    def bound_rows(self) -> list[dict]:
        return [{"item": item, "qty": self[f"qty_{item.line.pk}"], "net": self[f"net_{item.line.pk}"]} for item in self.rows]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for item in self.rows:
            if cleaned.get(f"qty_{item.line.pk}") and cleaned.get(f"net_{item.line.pk}"):
                self.add_error(f"net_{item.line.pk}", _("Give units or an amount for a line, not both."))
        if not cleaned.get("everything") and not self.requests():
            raise forms.ValidationError(_("Give the units or the amount to credit."))
        return cleaned

    def requests(self) -> list[CreditRequest] | None:
        """None: everything still creditable."""
        if self.cleaned_data.get("everything"):
            return None
        requests = []
        for item in self.rows:
            qty = self.cleaned_data.get(f"qty_{item.line.pk}") or 0
            net = self.cleaned_data.get(f"net_{item.line.pk}")
            if qty or net:
                requests.append(CreditRequest(invoice_line_id=item.line.pk, quantity=qty, net=None if qty else net))
        return requests


class RedLetterForm(forms.Form):
    red_letter_number = forms.CharField(
        label=_("Red-letter confirmation number"), max_length=20, validators=[validate_red_letter_number]
    )

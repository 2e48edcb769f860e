"""The receivables report's filters: the period, its buckets, and which table."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.forms import PeriodForm

VIEWS = [
    ("ageing", _("Ageing over time")),
    ("dso", _("Days sales outstanding (DSO)")),
    ("overdue", _("Overdue trend")),
    ("collections", _("Collections by payment method")),
]


class ReceivablesReportForm(PeriodForm):
    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)

    default_grain = "week"

    def clean(self):
        cleaned = super().clean()
        cleaned["view"] = cleaned.get("view") or "ageing"
        return cleaned

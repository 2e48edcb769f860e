"""The stock report's filters: the period, which table, a warehouse, and the thresholds of slow and dead stock."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from reports.forms import PeriodForm

from .selectors import default_thresholds

VIEWS = [
    ("levels", _("Levels and value per warehouse")),
    ("turnover", _("Turnover and days of cover")),
    ("slow", _("Slow movers")),
    ("dead", _("Dead stock")),
    ("stockouts", _("Stock-outs")),
    ("variances", _("Count variances")),
]
MAX_THRESHOLD_DAYS = 3650


class StockReportForm(PeriodForm):
    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"), required=False, empty_label=_("All")
    )
    dead_days = forms.IntegerField(
        label=_("Dead stock: no shipment for (days)"), min_value=1, max_value=MAX_THRESHOLD_DAYS, required=False
    )
    cover_days = forms.IntegerField(
        label=_("Slow mover: stock lasts more than (days)"), min_value=1, max_value=MAX_THRESHOLD_DAYS, required=False
    )

    default_grain = "week"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, days in default_thresholds().items():  # what an empty field means
            self.fields[name].widget.attrs["placeholder"] = days

    def clean(self):
        cleaned = super().clean()
        cleaned["view"] = cleaned.get("view") or "levels"
        defaults = default_thresholds()
        for name in ("dead_days", "cover_days"):
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = defaults[name]
        return cleaned

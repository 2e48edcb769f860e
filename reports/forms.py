"""The filters every report shares: a period, the bucket size of its figures, and a comparison."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.periods import COMPARISONS, GRAINS, buckets, comparison_period

MAX_YEARS = 5
# A chart stays readable with a few hundred points at most.
MAX_BUCKETS = 400


class PeriodForm(forms.Form):
    """From, to (month to date when left empty), grouped by, compared with. Read from the query string."""

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.ChoiceField(label=_("Group by"), choices=GRAINS, required=False)
    compare = forms.ChoiceField(label=_("Compare with"), choices=COMPARISONS, required=False)

    default_grain = "day"

    def __init__(self, data=None, *args, **kwargs):
        # Always bound, an empty field meaning its default, so the page shows figures at once and its
        # fields show the period they cover.
        data = data.copy() if data is not None else {}
        today = timezone.localdate()
        for name, default in (
            ("start", today.replace(day=1).isoformat()),
            ("end", today.isoformat()),
            ("grain", self.default_grain),
            ("compare", "none"),
        ):
            if not data.get(name):
                data[name] = default
        super().__init__(data, *args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        start = cleaned.get("start") or (None if "start" in self.errors else today.replace(day=1))
        end = cleaned.get("end") or (None if "end" in self.errors else today)
        cleaned["grain"] = cleaned.get("grain") or self.default_grain
        cleaned["compare"] = cleaned.get("compare") or "none"
        if start is None or end is None:
            return cleaned
        if start > end:
            self.add_error("end", _("The end of the period is before its start."))
            return cleaned
        if end - start > timedelta(days=366 * MAX_YEARS):
            self.add_error("start", _("A report covers at most %(years)d years.") % {"years": MAX_YEARS})
            return cleaned
        if len(buckets(start, end, cleaned["grain"])) > MAX_BUCKETS:
            self.add_error("grain", _("Too many points for one chart: group by a longer period."))
            return cleaned
        cleaned["start"], cleaned["end"] = start, end
        cleaned["comparison"] = comparison_period(start, end, cleaned["compare"])
        return cleaned

    def period_bounds(self) -> tuple[date, date]:
        """The period asked for (both days included)."""
        return self.cleaned_data["start"], self.cleaned_data["end"]

    def comparison_bounds(self) -> tuple[date, date] | None:
        """The period to compare with, or None."""
        return self.cleaned_data.get("comparison")

"""Filters of the customer report and of a customer's relationship report: a period of whole calendar months
(the last 12 by default), what the table shows, a segment, and (for managers) a salesperson."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.roles import SALES
from reports.access import salesperson_scope
from reports.forms import PeriodForm

from .models import Segment
from .segments import SEGMENT_ORDER


def last_twelve_months() -> tuple:
    """From the first day of the month eleven months ago to today."""
    today = timezone.localdate()
    start = today.replace(day=1)
    for _month in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, today


class MonthlyPeriodForm(PeriodForm):
    """A period counted in calendar months (the snapshot has one row per customer and month), the last 12 by default."""

    grain = None
    compare = None
    default_grain = "month"

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("start") and not data.get("end"):  # else PeriodForm's defaults: month to date
            start, end = last_twelve_months()
            data["start"], data["end"] = start.isoformat(), end.isoformat()
        super().__init__(data, *args, **kwargs)


class CustomerReportForm(MonthlyPeriodForm):
    VIEWS = [
        ("segments", _("Segments")),
        ("top", _("Top customers")),
        ("new_returning", _("New and returning customers")),
        ("complaints", _("Complaint rate per customer")),
    ]

    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)
    segment = forms.ChoiceField(label=_("RFM segment"), required=False)
    salesperson = forms.TypedChoiceField(label=_("Salesperson"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.fields["segment"].choices = [("", _("Any")), *[(code, Segment(code).label) for code in SEGMENT_ORDER]]
        if salesperson_scope(user) is None:
            people = get_user_model().objects.filter(groups__name=SALES, is_active=True).order_by("username")
            self.fields["salesperson"].choices = [
                ("", _("Any")),
                *[(person.pk, person.get_full_name() or person.username) for person in people],
            ]
        else:  # a salesperson sees their own customers only: nothing to choose
            del self.fields["salesperson"]

    def clean(self):
        cleaned = super().clean()
        cleaned["view"] = cleaned.get("view") or "segments"
        cleaned["salesperson"] = cleaned.get("salesperson")
        return cleaned


class RelationshipForm(MonthlyPeriodForm):
    VIEWS = [("months", _("Orders per month")), ("products", _("Products bought"))]

    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["view"] = cleaned.get("view") or "months"
        return cleaned

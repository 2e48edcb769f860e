"""How a report's cells read: money with two decimals and separators, percentages, days, durations, dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

register = template.Library()


@register.filter
def report_value(value, kind: str = "text") -> str:
    """One value shown as its column's kind says; nothing for an empty cell."""
    if value is None or value == "":
        return ""
    if kind == "money":
        return intcomma(f"{Decimal(value):.2f}")
    if kind == "int":
        return intcomma(int(value))
    if kind == "percent":
        return f"{Decimal(value) * 100:.1f} %"
    if kind == "days":
        return f"{Decimal(value):.1f}"
    if kind == "duration":
        return duration_text(float(value))
    if kind == "date":
        if isinstance(value, datetime):
            value = timezone.localtime(value).date()
        return date_format(value, "Y-m-d") if isinstance(value, date) else str(value)
    return str(value)


def duration_text(seconds: float) -> str:
    """A length of time as people read it: 45 min, 5.2 h, 3.4 d."""
    if seconds < 3600:
        return gettext("%(minutes)s min") % {"minutes": int(round(seconds / 60))}
    if seconds < 48 * 3600:
        return gettext("%(hours)s h") % {"hours": f"{seconds / 3600:.1f}"}
    return gettext("%(days)s d") % {"days": f"{seconds / 86400:.1f}"}


@register.filter
def report_delta(value) -> str:
    """A change against the comparison period: +12.5 % / −3.0 %."""
    if value is None:
        return ""
    percent = Decimal(value) * 100
    sign = "+" if percent > 0 else ("−" if percent < 0 else "±")
    return f"{sign}{abs(percent):.1f} %"


@register.filter
def delta_class(value) -> str:
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"

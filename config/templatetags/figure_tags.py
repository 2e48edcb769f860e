"""How a figure (config.home.HomeFigure and the like) reads: grouped digits, money to the cent, percentages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

DASH = "–"


@register.filter
def figure_value(value, kind: str = "int") -> str:
    """The value as a figure of its kind; a dash when it is not known (None) or not a number."""
    if value is None or value == "":
        return DASH
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return DASH
    if kind == "money":
        return number_format(number, decimal_pos=2, use_l10n=True, force_grouping=True)
    if kind == "percent":
        return f"{number_format(number * 100, decimal_pos=1, use_l10n=True)} %"
    if kind == "days":
        return _("%(days)s days") % {"days": number_format(number, decimal_pos=1, use_l10n=True)}
    return number_format(number, decimal_pos=0, use_l10n=True, force_grouping=True)

"""The Sales and Margin reports' filters: the shared period, what to group by, and what to narrow to."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from inventory.models import Warehouse
from orders.entry.filters import SalespersonChoiceField, salespeople
from orders.models import Channel
from reports.access import salesperson_scope
from reports.forms import PeriodForm

from .selectors import DIMENSIONS, SalesFilters, sales_categories

ANY = [("", _("Any"))]


class SalesReportForm(PeriodForm):
    """Period, grouping (a period bucket or a dimension) and filters; the salesperson filter only for
    readers who may see everyone's figures (the others see their own whatever the query string says)."""

    dimension = forms.ChoiceField(label=_("Figures by"), choices=DIMENSIONS, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=ANY + list(Channel.choices), required=False)
    segment = forms.ChoiceField(label=_("Customer segment"), choices=ANY + list(Customer.Segment.choices), required=False)
    category = forms.ChoiceField(label=_("Product category"), required=False)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"), required=False, empty_label=_("Any")
    )
    salesperson = SalespersonChoiceField(label=_("Salesperson"), queryset=None, required=False, empty_label=_("Anyone"))

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.fields["category"].choices = ANY + [(name, name) for name in sales_categories()]
        if salesperson_scope(user) is None:
            self.fields["salesperson"].queryset = salespeople()
        else:
            del self.fields["salesperson"]

    def clean(self):
        cleaned = super().clean()
        cleaned["dimension"] = cleaned.get("dimension") or "period"
        return cleaned


def sales_filters(data: dict, user) -> SalesFilters:
    """The form's cleaned filters as the selectors take them; a salesperson is held to their own figures
    whatever the query string says."""
    scope = salesperson_scope(user)
    chosen = data.get("salesperson")
    warehouse = data.get("warehouse")
    return SalesFilters(
        channel=data.get("channel") or "",
        segment=data.get("segment") or "",
        category=data.get("category") or None,
        warehouse_id=warehouse.pk if warehouse else None,
        salesperson_id=scope if scope is not None else (chosen.pk if chosen else None),
    )

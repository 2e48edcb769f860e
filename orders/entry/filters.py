"""The order list's filters: state, customer, salesperson, channel, dates, amounts, search, sorting."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from customers.models import Customer
from orders.models import Channel, OrderStatus, SalesOrder


def salespeople():
    """Users who have entered orders or may enter them: the choices of the salesperson filter."""
    User = get_user_model()
    return (
        User.objects.filter(
            Q(groups__permissions__codename="add_salesorder", groups__permissions__content_type__app_label="orders")
            | Q(orders_entered__isnull=False)
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class SalespersonFilter(django_filters.ModelChoiceFilter):
    field_class = SalespersonChoiceField


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, PO, customer name or code")}),
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"), empty_label=_("Any status"))
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all(), label=_("Customer"), widget=forms.HiddenInput)
    salesperson = SalespersonFilter(
        field_name="created_by", queryset=salespeople(), label=_("Salesperson"), empty_label=_("Anyone")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"), empty_label=_("Any channel"))
    date_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("Entered from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label=_("Entered until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    total_min = django_filters.NumberFilter(
        field_name="total", lookup_expr="gte", label=_("Total from"), min_value=0, max_digits=14, decimal_places=2
    )
    total_max = django_filters.NumberFilter(
        field_name="total", lookup_expr="lte", label=_("Total up to"), min_value=0, max_digits=14, decimal_places=2
    )
    mine = django_filters.BooleanFilter(method="entered_by_me", label=_("Only mine"), widget=forms.CheckboxInput)
    sort = SortFilter(
        fields=(("number", "number"), ("created_at", "date"), ("customer__name", "customer"), ("total", "total")),
        field_labels={"number": _("Number"), "created_at": _("Date"), "customer__name": _("Customer"), "total": _("Total")},
        label=_("Sort by"),
        empty_label=_("Newest first"),
    )

    class Meta:
        model = SalesOrder
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # A fresh queryset per request: new salespeople appear without a restart.
        self.filters["salesperson"].queryset = salespeople()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(customer_po__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__alt_name__icontains=value)
            | Q(customer__code__icontains=value)
        )

    def entered_by_me(self, queryset, name, value):
        if value and self.user is not None:
            return queryset.filter(created_by=self.user)
        return queryset

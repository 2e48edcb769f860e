"""Forms of the fulfilment pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import OrderStatus


class AllocationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(OrderStatus.APPROVED, OrderStatus.APPROVED.label), (OrderStatus.BACKORDERED, OrderStatus.BACKORDERED.label)],
        empty_label=_("All waiting"),
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(customer__name__icontains=value) | Q(customer_po__icontains=value))


class AllocationRunForm(forms.Form):
    order = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    all = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("order") and not data.get("all"):
            raise ValidationError(_("Choose an order to allocate, or allocate all waiting orders."))
        return data

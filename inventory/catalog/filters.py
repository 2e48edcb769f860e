"""Filters of the product list (django-filter): search by SKU, name or barcode; active; unit."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.models import Product


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("SKU, name or barcode")}),
    )
    is_active = django_filters.ChoiceFilter(
        label=_("Active"),
        choices=[("true", _("yes")), ("false", _("no"))],
        empty_label=_("Any"),
        method="filter_active",
    )
    unit = django_filters.ChoiceFilter(label=_("Unit"), choices=Product.Unit.choices, empty_label=_("Any"))
    sort = SortFilter(
        label=_("Sort by"),
        fields=(("sku", "sku"), ("name", "name"), ("list_price", "list_price"), ("updated_at", "updated_at")),
        field_labels={"sku": _("SKU"), "name": _("Name"), "list_price": _("List price"), "updated_at": _("Last change")},
        empty_label=_("SKU"),
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(sku__icontains=word) | Q(name__icontains=word) | Q(barcode__icontains=word))
        return queryset

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=(value == "true"))


def product_list(*, filters):
    """The product list's FilterSet over all products, SKU order."""
    return ProductFilter(filters or None, queryset=Product.objects.order_by("sku", "pk"))

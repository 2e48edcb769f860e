"""Filters of the stock lists: stock overview, movement history, alerts, allocation, replenishment."""

from __future__ import annotations

import django_filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from inventory.models import MovementKind, ReplenishmentState, Warehouse


def _search(fields):
    def method(queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    return method


class StockLevelFilter(django_filters.FilterSet):
    STOCK_CHOICES = [
        ("below_safety", _("Below safety stock")),
        ("out_of_stock", _("Nothing available")),
        ("reserved", _("With reservations")),
    ]

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    warehouse = django_filters.ModelChoiceFilter(label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"))
    stock = django_filters.ChoiceFilter(label=_("Show"), choices=STOCK_CHOICES, method="filter_stock", empty_label=_("All"))
    sort = SortFilter(
        label=_("Sort by"),
        fields=(("product__sku", "sku"), ("free", "available"), ("on_hand", "on_hand"), ("warehouse__priority", "warehouse")),
        field_labels={
            "product__sku": _("SKU"),
            "free": _("Available"),
            "on_hand": _("On hand"),
            "warehouse__priority": _("Warehouse"),
        },
    )

    def filter_q(self, queryset, name, value):
        return _search(["product__sku", "product__name", "product__barcode"])(queryset, name, value)

    def filter_stock(self, queryset, name, value):
        if value == "below_safety":
            return queryset.filter(on_hand__lt=F("reserved") + F("safety_stock"))
        if value == "out_of_stock":
            return queryset.filter(on_hand__lte=F("reserved"))
        if value == "reserved":
            return queryset.filter(reserved__gt=0)
        return queryset


class MovementFilter(django_filters.FilterSet):
    warehouse = django_filters.ModelChoiceFilter(label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=MovementKind.choices, empty_label=_("All"))
    document = django_filters.CharFilter(label=_("Document"), lookup_expr="icontains")


class AlertFilter(django_filters.FilterSet):
    STATE_CHOICES = [("open", _("Open")), ("resolved", _("Resolved"))]

    state = django_filters.ChoiceFilter(label=_("State"), choices=STATE_CHOICES, method="filter_state", empty_label=_("All"))
    warehouse = django_filters.ModelChoiceFilter(label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"))
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(resolved_at__isnull=True)
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset

    def filter_q(self, queryset, name, value):
        return _search(["product__sku", "product__name", "product__barcode"])(queryset, name, value)


class ReplenishmentFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("State"), choices=ReplenishmentState.choices, empty_label=_("All"))
    warehouse = django_filters.ModelChoiceFilter(label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"))
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")

    def filter_q(self, queryset, name, value):
        return _search(["number", "supplier"])(queryset, name, value)

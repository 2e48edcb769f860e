"""Query filters of the API lists (a bad value answers 400 with the field named)."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from billing.models import Invoice, InvoiceStatus
from customers.models import Customer
from inventory.models import Product
from logistics.models import Shipment, ShipmentState
from orders.models import Channel, OrderStatus, PaymentStatus, SalesOrder


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time as UTC: any offset the database could not store (beyond ±15:59) is turned into UTC first."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("Enter a valid date/time."), code="invalid")


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class OrderFilter(django_filters.FilterSet):
    updated_since = SinceFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Orders changed at or after this time (ISO 8601)."
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices, help_text="A client only ever sees its own channel.")
    payment_status = django_filters.ChoiceFilter(choices=PaymentStatus.choices[1:])
    external_ref = django_filters.CharFilter(max_length=100)

    class Meta:
        model = SalesOrder
        fields: list[str] = []


class ProductFilter(django_filters.FilterSet):
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")
    sku = django_filters.CharFilter(max_length=40)
    barcode = django_filters.CharFilter(max_length=48)
    q = django_filters.CharFilter(method="search", max_length=100, help_text="SKU, barcode or name contains.")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(sku__icontains=value) | Q(barcode__icontains=value) | Q(name__icontains=value))


class CustomerFilter(django_filters.FilterSet):
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")
    code = django_filters.CharFilter(max_length=20)
    external_id = django_filters.CharFilter(
        method="by_external_id", max_length=100, help_text="The id the client's channel gave the customer."
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def by_external_id(self, queryset, name, value):
        return queryset.filter(channel_ids__external_id=value)


class ShipmentFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ShipmentState.choices)
    order = django_filters.CharFilter(field_name="order__number", max_length=20, help_text="The order's number.")
    shipped_since = SinceFilter(field_name="shipped_at", lookup_expr="gte")

    class Meta:
        model = Shipment
        fields: list[str] = []


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices[1:])
    order = django_filters.CharFilter(method="by_order", max_length=20, help_text="Invoices billing this order.")
    issued_since = SinceFilter(field_name="issued_at", lookup_expr="gte")

    class Meta:
        model = Invoice
        fields: list[str] = []

    def by_order(self, queryset, name, value):
        return queryset.filter(lines__order__number=value).distinct()

"""The order list's filters: state, customer, salesperson, channel, dates, amounts, search, sorting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db.models import BigIntegerField, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from config.rows import any_of
from customers.models import Customer
from orders.models import Channel, OrderStatus, PaymentStatus, SalesOrder

# "Not invoiced" is stored as "", which a filter's empty choice already means ("any"): it is asked for as "none".
NOT_INVOICED_CHOICE = "none"
PAYMENT_STATUS_CHOICES = [(value or NOT_INVOICED_CHOICE, label) for value, label in PaymentStatus.choices]

# Who has entered orders, remembered for a few minutes: finding it means reading the author of
# every order (an OR of EXISTS makes PostgreSQL hash the whole order table on every page).
ORDER_AUTHORS_CACHE_KEY = "orders:authors"
ORDER_AUTHORS_SECONDS = 300


def order_authors() -> list[int]:
    """The ids of users who have entered at least one order."""
    return cache.get_or_set(
        ORDER_AUTHORS_CACHE_KEY,
        lambda: list(SalesOrder.objects.order_by().values_list("created_by", flat=True).distinct()),
        ORDER_AUTHORS_SECONDS,
    )


def salespeople():
    """Users who may enter orders or have entered some: the choices of the salesperson filter."""
    User = get_user_model()
    may_enter = Permission.objects.filter(codename="add_salesorder", content_type__app_label="orders", group__user=OuterRef("pk"))
    return User.objects.filter(Q(Exists(may_enter)) | Q(pk__in=order_authors())).order_by("first_name", "last_name", "username")


# Up to this many matching orders (the count's cap) a text search reads their ids once; more stay a subquery of the
# page and its count.
SEARCH_IDS_CAP = 10_000


def order_search_matches(value: str):
    """Ids (as {"pk": id} rows) of the orders whose number, customer PO or channel reference contains the text, or
    whose customer's name, other name or code does: four index-served lookups joined by UNION (an OR across the
    order and the customer table would scan both); each branch uses its trigram index (PostgreSQL)."""
    customers = Customer.objects.filter(
        Q(name__icontains=value) | Q(alt_name__icontains=value) | Q(code__icontains=value)
    ).values("pk")
    return (
        SalesOrder.objects.filter(number__icontains=value)
        .order_by()
        .values("pk")
        .union(
            SalesOrder.objects.filter(customer_po__icontains=value).order_by().values("pk"),
            SalesOrder.objects.filter(external_ref__icontains=value).order_by().values("pk"),
            SalesOrder.objects.filter(customer__in=customers.values("pk")).order_by().values("pk"),
        )
        .order_by()
    )


def _day_start(day: date) -> datetime:
    """The first instant of a calendar day in the site's time zone (an indexable timestamp bound)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class SalespersonFilter(django_filters.ModelChoiceFilter):
    field_class = SalespersonChoiceField


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, PO, external ref, customer name or code")}),
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"), empty_label=_("Any status"))
    payment_status = django_filters.ChoiceFilter(
        choices=PAYMENT_STATUS_CHOICES, method="paid_as", label=_("Payment status"), empty_label=_("Any payment status")
    )
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all(), label=_("Customer"), widget=forms.HiddenInput)
    salesperson = SalespersonFilter(
        field_name="created_by", queryset=get_user_model().objects.none(), label=_("Salesperson"), empty_label=_("Anyone")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"), empty_label=_("Any channel"))
    # Compared as timestamps (created_at >= day start, < next day start) so the index on created_at
    # serves them; a __date lookup casts every row first.
    date_from = django_filters.DateFilter(
        method="entered_from", label=_("Entered from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="entered_until", label=_("Entered until"), widget=forms.DateInput(attrs={"type": "date"})
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
        """Number, customer PO, channel reference, or the customer's name, other name or code contains the text.

        The matching orders' ids are read once (order_search_matches: each branch served by its trigram index)
        and the page and its count filter on them, instead of each running the search again; a text that
        matches more than SEARCH_IDS_CAP orders stays a subquery."""
        value = value.strip()
        if not value:
            return queryset
        matches = order_search_matches(value)
        ids = [row["pk"] for row in matches[: SEARCH_IDS_CAP + 1]]
        if len(ids) > SEARCH_IDS_CAP:
            return queryset.filter(pk__in=matches)
        return queryset.filter(any_of("pk", ids, BigIntegerField()))

    def paid_as(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(payment_status="" if value == NOT_INVOICED_CHOICE else value)

    def entered_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value)) if value else queryset

    def entered_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1))) if value else queryset

    def entered_by_me(self, queryset, name, value):
        if value and self.user is not None:
            return queryset.filter(created_by=self.user)
        return queryset

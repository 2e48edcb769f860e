"""The filters of the customer and complaint lists (django-filter); invalid values are ignored with a message."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.filters import SortFilter
from config.roles import MANAGER, SALES

from .models import Complaint, Customer

YES_NO = [("true", _("yes")), ("false", _("no"))]


def staff_users():
    """The people customers and complaints can be given to: active sales staff and managers."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[SALES, MANAGER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class UserFilter(django_filters.ModelChoiceFilter):
    field_class = UserChoiceField


def search_customers(queryset, value: str, prefix: str = ""):
    """Code, name in any script, other name, phone or tax ID containing every word typed."""
    for word in value.split():
        queryset = queryset.filter(
            Q(**{f"{prefix}code__icontains": word})
            | Q(**{f"{prefix}name__icontains": word})
            | Q(**{f"{prefix}alt_name__icontains": word})
            | Q(**{f"{prefix}phone__icontains": word})
            | Q(**{f"{prefix}tax_id__icontains": word})
        )
    return queryset


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code, name, phone, tax ID")}),
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices, empty_label=_("Any"))
    segment = django_filters.ChoiceFilter(label=_("Segment"), choices=Customer.Segment.choices, empty_label=_("Any"))
    credit_rating = django_filters.ChoiceFilter(label=_("Credit rating"), choices=Customer.Rating.choices, empty_label=_("Any"))
    is_blocked = django_filters.ChoiceFilter(label=_("Blocked"), choices=YES_NO, empty_label=_("Any"), method="filter_blocked")
    salesperson = UserFilter(label=_("Salesperson"), queryset=staff_users(), empty_label=_("Anyone"))
    tag = django_filters.CharFilter(label=_("Tag"), field_name="tags", lookup_expr="icontains")
    sort = SortFilter(
        label=_("Sort by"),
        fields=(("name", "name"), ("code", "code"), ("credit_limit", "credit_limit"), ("created_at", "created_at")),
        field_labels={"name": _("Name"), "code": _("Code"), "credit_limit": _("Credit limit"), "created_at": _("Created")},
        empty_label=_("Name"),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["salesperson"].queryset = staff_users()

    def filter_search(self, queryset, name, value):
        return search_customers(queryset, value)

    def filter_blocked(self, queryset, name, value):
        return queryset.filter(is_blocked=(value == "true"))


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, subject, customer")}),
    )
    state = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Complaint.State.choices, widget=forms.CheckboxSelectMultiple
    )
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Complaint.Category.choices, empty_label=_("Any"))
    assignee = UserFilter(label=_("Assigned to"), queryset=staff_users(), empty_label=_("Anyone"))
    mine = django_filters.BooleanFilter(label=_("Assigned to me"), method="filter_mine", widget=forms.CheckboxInput)
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    sort = SortFilter(
        label=_("Sort by"),
        fields=(("created_at", "created_at"), ("updated_at", "updated_at"), ("number", "number")),
        field_labels={"created_at": _("Opened"), "updated_at": _("Last change"), "number": _("Number")},
        empty_label=_("Newest first"),
    )

    class Meta:
        model = Complaint
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["assignee"].queryset = staff_users()

    def filter_search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(subject__icontains=word)
                | Q(customer__name__icontains=word)
                | Q(customer__alt_name__icontains=word)
                | Q(customer__code__icontains=word)
            )
        return queryset

    def filter_mine(self, queryset, name, value):
        if value and self.user is not None:
            return queryset.filter(assignee=self.user)
        return queryset

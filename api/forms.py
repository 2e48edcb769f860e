"""The manager's forms for API clients."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient
from api.scopes import DEFAULT_SCOPES, scope_choices
from orders.models import Channel


class ApiClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("Who calls, e.g. “Tmall shop” or “Web shop”."))
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, initial=Channel.WEB_SHOP, help_text=_("Orders it pushes carry this channel.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=scope_choices, initial=DEFAULT_SCOPES, widget=forms.CheckboxSelectMultiple
    )
    rate_limit_per_minute = forms.IntegerField(label=_("Requests per minute"), min_value=1, max_value=100_000, initial=120)


class ApiClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), widget=forms.TextInput(attrs={"type": "search"}))
    state = django_filters.ChoiceFilter(
        method="by_state",
        label=_("State"),
        choices=[("active", _("Active")), ("revoked", _("Revoked"))],
        empty_label=_("Any state"),
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"), empty_label=_("Any channel"))

    class Meta:
        model = ApiClient
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(token_prefix__startswith=value)) if value else queryset

    def by_state(self, queryset, name, value):
        if value == "active":
            return queryset.filter(revoked_at__isnull=True)
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset

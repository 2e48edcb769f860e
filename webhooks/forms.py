"""Forms and filters of the webhook pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WebhookDelivery, WebhookEndpoint
from .selectors import delivery_outcome_filter, endpoint_search
from .topics import TOPIC_CHOICES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the events are POSTed; https:// only, to an address outside this network."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    topics = forms.MultipleChoiceField(label=_("Topics"), choices=TOPIC_CHOICES, widget=forms.CheckboxSelectMultiple)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class EndpointEditForm(EndpointForm):
    enabled = None  # enabling and disabling have buttons of their own


class EndpointFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("URL or description"))
    is_active = django_filters.BooleanFilter(label=_("Enabled"))

    class Meta:
        model = WebhookEndpoint
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return endpoint_search(queryset, value)


class DeliveryFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=WebhookDelivery.Outcome.choices, method="by_outcome", label=_("Status"))
    type = django_filters.ChoiceFilter(choices=TOPIC_CHOICES, label=_("Topic"))
    subject = django_filters.CharFilter(method="by_subject", label=_("Order or subject"))

    class Meta:
        model = WebhookDelivery
        fields = ["outcome", "type", "subject"]

    def by_outcome(self, queryset, name, value):
        return delivery_outcome_filter(queryset, value)

    def by_subject(self, queryset, name, value):
        return queryset.filter(aggregate_id=value.strip().upper())

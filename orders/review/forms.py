"""Forms of the review pages: the decision forms, the queue's filters and the thresholds."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import ReviewRule, ReviewSettings, SalesOrder

from .rules import orders_flagged_by

MAX_OVERDUE_DAYS = 3650
MAX_REASON = 2000


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the order is rejected: sales needs the reason to fix it.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the order is rejected: sales needs the reason to fix it."))
        return reason


class ReviewSettingsForm(forms.ModelForm):
    class Meta:
        model = ReviewSettings
        fields = [
            "amount_threshold",
            "sales_max_discount_percent",
            "overdue_days",
            "check_completeness",
            "check_price",
            "check_amount",
            "check_blocked",
            "check_credit",
            "check_overdue",
            "check_stock",
        ]
        widgets = {
            "amount_threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "sales_max_discount_percent": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
            "overdue_days": forms.NumberInput(attrs={"min": "0", "max": str(MAX_OVERDUE_DAYS)}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["overdue_days"].validators.append(MaxValueValidator(MAX_OVERDUE_DAYS))
        self.fields["amount_threshold"].error_messages["min_value"] = _("The amount threshold cannot be negative.")
        self.fields["sales_max_discount_percent"].error_messages.update(
            {
                "min_value": _("The discount sales may give is a percentage from 0 to 100."),
                "max_value": _("The discount sales may give is a percentage from 0 to 100."),
            }
        )

    def clean_amount_threshold(self) -> Decimal:
        value = self.cleaned_data["amount_threshold"]
        if value < 0:
            raise forms.ValidationError(_("The amount threshold cannot be negative."))
        return value


class ReviewQueueFilter(django_filters.FilterSet):
    """The review queue narrowed by the rule that flagged the order, the customer or the number."""

    rule = django_filters.ChoiceFilter(
        label=_("Flagged by"), choices=ReviewRule.choices, method="filter_rule", empty_label=_("Any rule")
    )
    customer = django_filters.CharFilter(label=_("Customer"), method="filter_customer")
    number = django_filters.CharFilter(label=_("Order number"), field_name="number", lookup_expr="icontains")
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(("submitted_at", "submitted"), ("total", "total")),
        choices=[
            ("submitted", _("Oldest first")),
            ("-submitted", _("Newest first")),
            ("-total", _("Largest total first")),
            ("total", _("Smallest total first")),
        ],
        empty_label=None,
    )

    class Meta:
        model = SalesOrder
        fields = ["rule", "customer", "number"]

    def filter_rule(self, queryset, name, value):
        return orders_flagged_by(orders=queryset, rule=value) if value else queryset

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer__name__icontains=value) | Q(customer__alt_name__icontains=value) | Q(customer__code__icontains=value)
        )

"""Forms of the receivables and statement pages: filters, making a statement, withdrawing it, and the
customer's answer on the public page."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.statements.models import StatementState
from billing.statements.services import COMMENT_MAX, NOTE_MAX, previous_month
from customers.models import Customer

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def salespeople():
    """Users who look after at least one customer."""
    return get_user_model().objects.filter(customers__isnull=False).distinct().order_by("first_name", "last_name", "username")


class ReceivablesFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name or code")}),
    )
    salesperson = SalespersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label=_("Salesperson"), empty_label=_("Anyone")
    )
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("", _("Largest total first")), ("overdue", _("Most overdue first")), ("name", _("Customer name"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salesperson"].queryset = salespeople()

    def values(self) -> dict:
        """The filters to apply; invalid input falls back to none (the form shows its errors)."""
        data = self.cleaned_data if self.is_valid() else {}
        salesperson = data.get("salesperson")
        order = {"overdue": "-overdue", "name": "name"}.get(data.get("sort") or "", "-total")
        return {
            "search": data.get("q") or "",
            "salesperson_id": salesperson.pk if salesperson else None,
            "as_of": data.get("as_of") or timezone.localdate(),
            "order": order,
        }


class StatementFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name or code")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *StatementState.choices])
    period = forms.CharField(
        label=_("Month"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}),
    )
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(), required=False, label=_("Customer"), widget=forms.HiddenInput
    )

    def clean_period(self) -> str:
        period = (self.cleaned_data.get("period") or "").strip()
        if period and not PERIOD.match(period):
            raise forms.ValidationError(_("Give the month as YYYY-MM."))
        return period

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        customer = data.get("customer")
        return {
            "search": data.get("q") or "",
            "state": data.get("state") or "",
            "period": data.get("period") or "",
            "customer_id": customer.pk if customer else None,
        }


def _last_month() -> tuple[date, date]:
    return previous_month(timezone.localdate())


class StatementCreateForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer code"), max_length=20, widget=forms.TextInput(attrs={"placeholder": "C000123", "autocomplete": "off"})
    )
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        start, end = _last_month()
        self.fields["period_start"].initial = start
        self.fields["period_end"].initial = end

    def clean_customer(self) -> Customer:
        code = self.cleaned_data["customer"].strip()
        customer = Customer.objects.filter(code__iexact=code).first()
        if customer is None:
            raise forms.ValidationError(_("No customer has the code %(code)s.") % {"code": code})
        return customer


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Why"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("confirm", _("I confirm")), ("dispute", _("I dispute"))], widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needed when you dispute the statement: tell us what differs."),
    )

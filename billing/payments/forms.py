"""Forms and filters of the payment and refund pages."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice
from billing.payments.models import (
    REFUND_METHODS,
    Payment,
    PaymentMethod,
    PaymentRecordState,
    Refund,
    RefundState,
    WriteOffReason,
)
from billing.payments.selectors import payment_search
from config.filters import SortFilter
from customers.models import Customer

MAX_MONEY = Decimal("999999999999.99")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


def money_field(*, label, required: bool = True, max_value: Decimal = MAX_MONEY, min_value: Decimal = Decimal("0.01"), **extra):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        min_value=min_value,
        max_value=max_value,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **extra,
    )


# --- lists ---------------------------------------------------------------------------------------------


class PaymentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, reference, payer or bill number")}),
    )
    customer = django_filters.CharFilter(method="of_customer", label=_("Customer (code or name)"))
    method = django_filters.ChoiceFilter(choices=PaymentMethod.choices, label=_("Method"), empty_label=_("Any method"))
    state = django_filters.ChoiceFilter(choices=PaymentRecordState.choices, label=_("State"), empty_label=_("Any state"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("Received from"), widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("Received until"), widget=DATE_WIDGET)
    unallocated = django_filters.BooleanFilter(
        method="with_rest", label=_("Only with money not allocated"), widget=forms.CheckboxInput
    )
    ordering = SortFilter(
        fields=(("date", "date"), ("amount", "amount"), ("number", "number")),
        field_labels={"date": _("Date received"), "amount": _("Amount"), "number": _("Number")},
        label=_("Sort by"),
    )

    class Meta:
        model = Payment
        fields: list[str] = []

    def search(self, queryset, name, value):
        return payment_search(queryset, value)

    def of_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(customer__code__iexact=value) | Q(customer__name__icontains=value))

    def with_rest(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(state=PaymentRecordState.RECORDED).filter(
            amount__gt=F("amount_allocated") + F("amount_written_off") + F("amount_refunded")
        )


class RefundFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=RefundState.choices, label=_("State"), empty_label=_("Any state"))
    method = django_filters.ChoiceFilter(choices=REFUND_METHODS, label=_("Method"), empty_label=_("Any method"))
    ordering = SortFilter(
        fields=(("created_at", "created"), ("amount", "amount")),
        field_labels={"created_at": _("Requested"), "amount": _("Amount")},
        label=_("Sort by"),
    )

    class Meta:
        model = Refund
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(reference__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__code__iexact=value)
        )


# --- recording a payment -----------------------------------------------------------------------------


class CustomerCodeField(forms.CharField):
    """A customer by its code (C000123), as finance reads it from the bank slip or the invoice."""

    def clean(self, value):
        code = super().clean(value).strip()
        customer = Customer.objects.filter(code__iexact=code).first()
        if customer is None:
            raise forms.ValidationError(_("No customer has the code %(code)s.") % {"code": code})
        return customer


class PaymentForm(forms.Form):
    customer = CustomerCodeField(label=_("Customer code"), max_length=30)
    date = forms.DateField(label=_("Date received"), widget=DATE_WIDGET)
    amount = money_field(label=_("Amount"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    payer_name = forms.CharField(label=_("Payer name"), max_length=200, required=False)
    payer_account = forms.CharField(label=_("Payer account"), max_length=60, required=False)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The bank slip, Alipay or WeChat Pay transaction number."),
    )
    bill_drawer = forms.CharField(label=_("Drawer"), max_length=200, required=False)
    bill_acceptor = forms.CharField(label=_("Accepting bank"), max_length=200, required=False)
    bill_number = forms.CharField(label=_("Bill number"), max_length=40, required=False)
    bill_maturity_date = forms.DateField(label=_("Maturity date"), required=False, widget=DATE_WIDGET)
    allocate_oldest = forms.BooleanField(
        label=_("Allocate to the oldest open invoices"),
        required=False,
        initial=True,
        help_text=_("What is left stays an advance for later invoices."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    BILL_FIELDS = ("bill_drawer", "bill_number", "bill_maturity_date")

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be received in the future."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("method") == PaymentMethod.ACCEPTANCE_BILL:
            for name in self.BILL_FIELDS:
                if not data.get(name):
                    self.add_error(name, _("An acceptance bill needs its drawer, bill number and maturity date."))
        return data


class AllocateForm(forms.Form):
    """One amount per open invoice of the customer: at most what it still has open."""

    def __init__(self, *args, invoices: list[Invoice], rest: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        self.rest = rest
        for invoice in invoices:
            self.fields[f"invoice_{invoice.pk}"] = money_field(
                label=invoice.number, required=False, max_value=invoice.open_amount
            )

    def clean(self):
        data = super().clean()
        chosen = self.allocations()
        if not self.errors and not chosen:
            raise forms.ValidationError(_("Enter an amount for at least one invoice."))
        total = sum((amount for _invoice, amount in chosen), Decimal("0"))
        if total > self.rest:
            raise forms.ValidationError(
                _("Together %(total)s; the payment has %(rest)s left to allocate.") % {"total": total, "rest": self.rest}
            )
        return data

    def allocations(self) -> list[tuple[Invoice, Decimal]]:
        data = getattr(self, "cleaned_data", {})
        return [(invoice, data[f"invoice_{invoice.pk}"]) for invoice in self.invoices if data.get(f"invoice_{invoice.pk}")]

    def rows(self):
        return [{"invoice": invoice, "field": self[f"invoice_{invoice.pk}"]} for invoice in self.invoices]


class WriteOffForm(forms.Form):
    amount = money_field(label=_("Amount"))
    reason = forms.ChoiceField(label=_("Reason"), choices=WriteOffReason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class InvoiceWriteOffForm(WriteOffForm):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int)

    field_order = ["invoice", "amount", "reason", "note"]

    def __init__(self, *args, invoices: list[Invoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = {invoice.pk: invoice for invoice in invoices}
        self.fields["invoice"].choices = [(invoice.pk, f"{invoice.number} ({invoice.open_amount})") for invoice in invoices]

    def chosen_invoice(self) -> Invoice:
        return self.invoices[self.cleaned_data["invoice"]]


class VoidForm(forms.Form):
    note = forms.CharField(
        label=_("Why is the payment voided?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the payment is voided.")},
    )


class EndorseForm(forms.Form):
    endorsee = forms.CharField(label=_("Endorsed to"), max_length=200)
    on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)


class DiscountForm(forms.Form):
    fee = money_field(label=_("Discount fee"), min_value=Decimal("0"))
    on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)


class CollectForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)


# --- refunds ---------------------------------------------------------------------------------------------


class RefundForm(forms.Form):
    """A refund against one of the customer's credits: an advance (a payment's rest) or a credit note."""

    source = forms.ChoiceField(label=_("Refund against"))
    amount = money_field(label=_("Amount"))
    method = forms.ChoiceField(label=_("Method"), choices=REFUND_METHODS)
    payee_name = forms.CharField(label=_("Payee name"), max_length=200, required=False)
    payee_account = forms.CharField(label=_("Payee account"), max_length=60, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, advances: list[Payment], credit_notes: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = {f"payment:{p.pk}": ("payment", p, p.unallocated) for p in advances}
        self.sources.update({f"credit_note:{note.pk}": ("credit_note", note, amount) for note, amount in credit_notes})
        self.fields["source"].choices = [
            (key, _("%(document)s: %(amount)s refundable") % {"document": obj.number, "amount": amount})
            for key, (_kind, obj, amount) in self.sources.items()
        ]

    def clean(self):
        data = super().clean()
        source = self.sources.get(data.get("source", ""))
        if source and data.get("amount") and data["amount"] > source[2]:
            self.add_error("amount", _("At most %(amount)s can be refunded against this.") % {"amount": source[2]})
        return data

    def target(self) -> dict:
        kind, obj, _amount = self.sources[self.cleaned_data["source"]]
        return {kind: obj}


class RefundPayForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"), max_length=100, help_text=_("The bank slip, Alipay or WeChat Pay transaction number.")
    )
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET)
    method = forms.ChoiceField(label=_("Method"), choices=REFUND_METHODS)

    def clean_paid_on(self):
        value = self.cleaned_data["paid_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("A refund cannot be paid in the future."))
        return value


class RefundCancelForm(forms.Form):
    note = forms.CharField(label=_("Why"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

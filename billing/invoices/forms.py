"""Forms and filters of the invoice pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceKind, InvoiceMedium, InvoiceStatus
from billing.selectors import invoice_search
from billing.validation import validate_fapiao_number
from config.filters import SortFilter
from customers.models import Customer
from customers.tax_ids import validate_tax_id


class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number, buyer, tax ID or order"))
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices, label=_("Status"))
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.filter(invoices__isnull=False).distinct().order_by("name"), label=_("Customer")
    )
    issued_from = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__gte", label=_("Issued from"))
    issued_to = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__lte", label=_("Issued until"))
    overdue = django_filters.BooleanFilter(method="only_overdue", label=_("Overdue only"), widget=forms.CheckboxInput)
    ordering = SortFilter(
        fields=(("created_at", "created"), ("issued_at", "issued"), ("due_date", "due"), ("total_gross", "total")),
        field_labels={"created_at": _("Created"), "issued_at": _("Issued"), "due_date": _("Due date"), "total_gross": _("Total")},
        label=_("Sort by"),
    )

    class Meta:
        model = Invoice
        fields = ["q", "status", "customer", "issued_from", "issued_to", "overdue"]

    def search(self, queryset, name, value):
        return invoice_search(queryset, value)

    def only_overdue(self, queryset, name, value):
        return queryset.overdue(on=timezone.localdate()) if value else queryset


class DraftInvoiceForm(forms.ModelForm):
    """What is printed on a draft: kind, medium, the buyer's details, remarks."""

    class Meta:
        model = Invoice
        fields = ["kind", "medium", "buyer_name", "buyer_tax_id", "buyer_address_phone", "buyer_bank_account", "remarks"]

    def clean_buyer_tax_id(self):
        value = (self.cleaned_data.get("buyer_tax_id") or "").strip().upper()
        validate_tax_id(value)
        return value


class CreateInvoiceForm(forms.Form):
    """Invoice shipped orders: kind and medium; the units come from what is still invoiceable."""

    kind = forms.ChoiceField(label=_("Invoice kind"), choices=InvoiceKind.choices)
    medium = forms.ChoiceField(label=_("Medium"), choices=InvoiceMedium.choices, initial=InvoiceMedium.ELECTRONIC)


class FapiaoNumberForm(forms.Form):
    fapiao_number = forms.CharField(
        label=_("Fapiao number"),
        max_length=20,
        validators=[validate_fapiao_number],
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

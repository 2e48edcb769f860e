"""Forms of the bank statement pages: upload, accounts, column mappings, and the reconciliation actions."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice
from config.filters import SortFilter

from .models import BankAccount, BankFileMapping, BankStatementLine, LineStatus
from .parsing.formats import FORMATS
from .parsing.mappings import BUILT_IN_MAPPINGS, MAPPING_FIELDS
from .selectors import line_search
from .services import max_file_bytes

MAPPING_FIELD_LABELS = {
    "booking_date": _("Booking date"),
    "value_date": _("Value date"),
    "amount": _("Amount (signed)"),
    "credit": _("Money in (收入/贷方)"),
    "debit": _("Money out (支出/借方)"),
    "direction": _("Direction (借/贷)"),
    "counterparty_name": _("Counterparty name"),
    "counterparty_account": _("Counterparty account"),
    "payer_name": _("Payer name"),
    "payer_account": _("Payer account"),
    "payee_name": _("Payee name"),
    "payee_account": _("Payee account"),
    "memo": _("Memo (every column named)"),
    "bank_ref": _("Bank transaction ID"),
    "balance": _("Balance after the line"),
    "currency": _("Currency"),
    "account": _("Own account number"),
}


def mapping_choices() -> list[tuple[str, str]]:
    choices = [("", _("Recognise by the column names"))]
    choices += [(f"builtin:{m.key}", m.name) for m in BUILT_IN_MAPPINGS]
    choices += [(f"user:{m.pk}", m.name) for m in BankFileMapping.objects.order_by("name")]
    return choices


class BankImportForm(forms.Form):
    file = forms.FileField(label=_("Statement file"), help_text=_("camt.053 (XML), MT940, or the bank's CSV/Excel export."))
    account = forms.ModelChoiceField(
        queryset=BankAccount.objects.filter(is_active=True),
        required=False,
        label=_("Bank account"),
        empty_label=_("The account the file names"),
    )
    file_format = forms.ChoiceField(choices=list(FORMATS.items()), initial="auto", label=_("Format"))
    mapping = forms.ChoiceField(choices=(), required=False, label=_("Column mapping (CSV/Excel)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = mapping_choices()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_file_bytes():
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)s MB).") % {"mb": max_file_bytes() // (1024 * 1024)}
            )
        return upload


class BankAccountForm(forms.ModelForm):
    class Meta:
        model = BankAccount
        fields = ["code", "name", "number", "currency", "file_mapping", "is_active"]

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Enter a three-letter currency code such as CNY."))
        return currency


class BankFileMappingForm(forms.ModelForm):
    """The mapping's name and, per field, the header names it may appear under (comma-separated)."""

    class Meta:
        model = BankFileMapping
        fields = ["name", "credit_markers"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        columns = self.instance.columns or {}
        for key in MAPPING_FIELDS:
            self.fields[f"col_{key}"] = forms.CharField(
                label=MAPPING_FIELD_LABELS[key],
                required=False,
                max_length=300,
                initial=", ".join(columns.get(key, [])),
            )
        self.fields["col_booking_date"].required = True
        self.fields["col_booking_date"].help_text = _(
            "The column headers as the file writes them; several names: separate with commas."
        )

    def clean(self):
        data = super().clean()
        columns = {}
        for key in MAPPING_FIELDS:
            names = [n.strip() for n in (data.get(f"col_{key}") or "").replace("，", ",").split(",") if n.strip()]
            if names:
                columns[key] = names
        if not any(key in columns for key in ("amount", "credit", "debit")):
            raise forms.ValidationError(_("Name the amount column, or the money in / money out columns."))
        self.instance.columns = columns
        return data


class IgnoreForm(forms.Form):
    note = forms.CharField(label=_("Why (optional)"), required=False, max_length=300)


class UndoForm(forms.Form):
    note = forms.CharField(label=_("Why (optional)"), required=False, max_length=300)


class SplitForm(forms.Form):
    """Allocations of one line: an amount per invoice (by number); the rest stays the customer's advance."""

    def __init__(self, *args, line: BankStatementLine, rows: list[tuple[Invoice, Decimal]], **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        self.rows = rows
        for invoice, amount in rows:
            self.fields[f"amount_{invoice.pk}"] = forms.DecimalField(
                label=str(invoice), required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2, initial=amount
            )
        self.fields["extra_invoice"] = forms.CharField(label=_("Another invoice (number)"), required=False, max_length=20)
        self.fields["extra_amount"] = forms.DecimalField(
            label=_("Amount for it"), required=False, min_value=Decimal("0.01"), max_digits=14, decimal_places=2
        )

    def bound_rows(self):
        return [(invoice, self[f"amount_{invoice.pk}"]) for invoice, _amount in self.rows]

    def clean(self):
        data = super().clean()
        allocations: list[tuple[Invoice, Decimal]] = []
        for invoice, _amount in self.rows:
            amount = data.get(f"amount_{invoice.pk}")
            if amount:
                allocations.append((invoice, amount))
        number = (data.get("extra_invoice") or "").strip()
        if number:
            invoice = Invoice.objects.open().filter(number__iexact=number).first()
            if invoice is None:
                self.add_error("extra_invoice", _("No open invoice has this number."))
            elif not data.get("extra_amount"):
                self.add_error("extra_amount", _("Enter the amount for this invoice."))
            elif invoice.pk not in {i.pk for i, _a in allocations}:
                allocations.append((invoice, data["extra_amount"]))
        if not allocations and not self.errors:
            raise forms.ValidationError(_("Enter an amount for at least one invoice."))
        customers = {invoice.customer_id for invoice, _a in allocations}
        if len(customers) > 1:
            raise forms.ValidationError(_("One payment pays one customer's invoices: choose invoices of one customer."))
        self.allocations = allocations
        return data


class CombineForm(forms.Form):
    lines = forms.ModelMultipleChoiceField(
        queryset=BankStatementLine.objects.filter(status=LineStatus.UNMATCHED, amount__gt=0), label=_("Lines")
    )
    invoice = forms.CharField(label=_("Invoice they pay (number)"), max_length=20)

    def clean_invoice(self):
        number = self.cleaned_data["invoice"].strip()
        invoice = Invoice.objects.open().filter(number__iexact=number).first()
        if invoice is None:
            raise forms.ValidationError(_("No open invoice has this number."))
        return invoice


class LineFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=LineStatus.choices, label=_("Status"))
    account = django_filters.ModelChoiceFilter(queryset=BankAccount.objects.all(), label=_("Account"))
    direction = django_filters.ChoiceFilter(
        choices=[("in", _("Money in")), ("out", _("Money out"))], method="by_direction", label=_("Direction")
    )
    booking_date = django_filters.DateFromToRangeFilter(label=_("Booking date"))
    sort = SortFilter(
        fields=(("booking_date", "booking_date"), ("amount", "amount")),
        field_labels={"booking_date": _("Booking date"), "amount": _("Amount")},
    )

    class Meta:
        model = BankStatementLine
        fields: list[str] = []

    def search(self, queryset, name, value):
        return line_search(queryset, value)

    def by_direction(self, queryset, name, value):
        return queryset.filter(amount__gt=0) if value == "in" else queryset.filter(amount__lt=0)

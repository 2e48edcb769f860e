"""Forms of the customer pages: each field says clearly what is wrong with what was typed."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .filters import UserChoiceField, staff_users
from .models import Address, Complaint, Contact, CreditChangeRequest, Customer
from .services import (
    BLOCK_REASON_MAX,
    CREDIT_FIELDS,
    CREDIT_PERMISSION,
    CUSTOMER_FIELDS,
    credit_terms_changed,
    credit_terms_of,
    new_customer_credit_terms,
)
from .tax_ids import validate_customer_tax_id

PHONE = re.compile(r"^\+?[0-9()\-\s./]{5,30}(\s*(ext\.?|x|转|分机)\s*\d{1,6})?$", re.IGNORECASE)
TAX_ID = re.compile(r"^[0-9A-Z\-]{5,40}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_CREDIT_LIMIT = Decimal("999999999999.99")
MAX_PAYMENT_TERMS_DAYS = 365


def clean_phone(value: str) -> str:
    value = " ".join((value or "").split())
    if value and not PHONE.match(value):
        raise forms.ValidationError(_("Enter a phone number: digits, spaces and + - ( ) only, e.g. +86 21 5555 0100."))
    return value


def split_tags(value: str) -> str:
    """Tags separated by commas (also Chinese ，and 、), each once, in the order typed."""
    parts = re.split(r"[,，、;；]", value or "")
    seen: list[str] = []
    for part in parts:
        tag = " ".join(part.split())
        if tag and tag.casefold() not in {t.casefold() for t in seen}:
            seen.append(tag)
    return ", ".join(seen)


def limit_credit_fields(fields) -> None:
    """The bounds the credit fields take on every form (customer, import, credit change request)."""
    if "credit_limit" in fields:
        fields["credit_limit"].validators.append(MaxValueValidator(MAX_CREDIT_LIMIT))
        fields["credit_limit"].widget.attrs.update({"min": "0", "step": "0.01"})
    if "payment_terms_days" in fields:
        fields["payment_terms_days"].max_value = MAX_PAYMENT_TERMS_DAYS
        fields["payment_terms_days"].validators.append(MaxValueValidator(MAX_PAYMENT_TERMS_DAYS))
        fields["payment_terms_days"].widget.attrs.update({"min": "0", "max": str(MAX_PAYMENT_TERMS_DAYS)})


def may_change_credit_terms(user) -> bool:
    return bool(user is not None and user.has_perm(CREDIT_PERMISSION))


class CustomerForm(forms.ModelForm):
    """The customer's fields; the credit terms only for finance and managers (`user`), with why they change."""

    # The import keeps the credit columns for everyone, to refuse a row that changes them by name.
    keeps_credit_fields = False

    # When the page was loaded: an edit based on an older state of the customer is refused.
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    credit_note = forms.CharField(
        label=_("Why the credit terms change"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the customer's history with the change."),
    )

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"salesperson": UserChoiceField}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["salesperson"].queryset = staff_users()
        limit_credit_fields(self.fields)
        self.fields["name"].widget.attrs["autofocus"] = True
        if self.instance.pk and not self.is_bound:
            self.initial["loaded_at"] = self.instance.updated_at.isoformat()
        if not may_change_credit_terms(user) and not self.keeps_credit_fields:
            # Not offered, and ignored if posted: sales ask finance for a credit change instead.
            for name in [*CREDIT_FIELDS, "credit_note"]:
                del self.fields[name]
        elif not self.instance.pk or self.keeps_credit_fields:
            del self.fields["credit_note"]  # a new customer's terms are set, not changed
        if not self.instance.pk:
            for name, value in new_customer_credit_terms().items():
                if name in self.fields:
                    self.fields[name].initial = value

    def clean(self):
        data = super().clean()
        # The instance still holds the stored values here (the form applies the new ones after clean).
        if "credit_note" in self.fields and not (data.get("credit_note") or "").strip():
            if credit_terms_changed(credit_terms_of(self.instance), data):
                self.add_error("credit_note", _("Say why the credit terms change."))
        return data

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the customer's name."))
        return name

    def clean_alt_name(self) -> str:
        return " ".join(self.cleaned_data["alt_name"].split())

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_tax_id(self) -> str:
        """A company's 18-character tax ID is its unified social credit code, check character included."""
        value = self.cleaned_data["tax_id"].replace(" ", "").upper()
        if value and not TAX_ID.match(value):
            raise forms.ValidationError(_("A tax ID has 5 to 40 letters and digits, e.g. 91310000MA1K4XXXXX."))
        kind = self.cleaned_data.get("kind") or self.instance.kind
        validate_customer_tax_id(value, is_company=kind == Customer.Kind.COMPANY)
        return value

    def clean_tags(self) -> str:
        value = split_tags(self.cleaned_data["tags"])
        if len(value) > Customer._meta.get_field("tags").max_length:
            raise forms.ValidationError(_("Too many tags."))
        return value

    def clean_loaded_at(self):
        value = self.cleaned_data.get("loaded_at") or ""
        if not value:
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            return None


class CustomerImportForm(CustomerForm):
    """One imported row: like the form, with the salesperson named by user name."""

    salesperson = forms.ModelChoiceField(
        label=_("salesperson"),
        queryset=None,
        required=False,
        to_field_name="username",
        error_messages={"invalid_choice": _("No salesperson has this user name.")},
    )

    # A row that changes the credit terms is refused with a message naming the column, not silently ignored.
    keeps_credit_fields = True

    class Meta(CustomerForm.Meta):
        field_classes: dict = {}

    importing_user = None  # who imports (set by for_user): their permission decides the credit columns

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["loaded_at"]
        # Not a column of the sheet: a row never changes whether the customer pays before shipping.
        del self.fields["prepayment_required"]
        for name in CREDIT_FIELDS:
            if name in self.fields:
                self.fields[name].required = False  # an empty cell keeps the current (or default) value

    @classmethod
    def for_user(cls, user) -> type[CustomerImportForm]:
        """The row form for one user's import."""
        return type(cls.__name__, (cls,), {"importing_user": user})

    def clean(self):
        data = super().clean()
        before = credit_terms_of(self.instance) if self.instance.pk else new_customer_credit_terms()
        for name in CREDIT_FIELDS:
            if name in data and data[name] in (None, ""):
                data[name] = before[name]
        if may_change_credit_terms(self.importing_user):
            return data
        for name in credit_terms_changed(before, {k: v for k, v in data.items() if k in CREDIT_FIELDS}):
            self.add_error(
                name,
                _(
                    "Only finance or a manager may change this (it is %(current)s, the row says %(new)s). "
                    "Leave the column as it is, or ask for a credit change on the customer's page."
                )
                % {"current": before[name], "new": data[name]},
            )
        return data


class CreditRequestForm(forms.ModelForm):
    """What a salesperson asks finance for: any of the three credit terms, and why."""

    class Meta:
        model = CreditChangeRequest
        fields = ["credit_limit", "credit_rating", "payment_terms_days", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"credit_limit": _("Leave a field empty to keep the customer's current value.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_credit_fields(self.fields)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the customer needs other credit terms."))
        return reason


class CreditDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")], widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("action") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the request is rejected."))
        return data


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=BLOCK_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give a reason.")},
    )


class AddressForm(forms.ModelForm):
    make_default = forms.BooleanField(label=_("Default address of its kind"), required=False)

    class Meta:
        model = Address
        fields = ["kind", "recipient", "phone", "line1", "line2", "city", "province", "postal_code", "country"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["make_default"].initial = self.instance.is_default

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if not COUNTRY.match(value):
            raise forms.ValidationError(_("Enter the two-letter country code, e.g. CN."))
        return value

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        if value and not re.match(r"^[0-9A-Za-z\- ]{3,12}$", value):
            raise forms.ValidationError(_("Enter a postal code such as 200120."))
        return value


class ContactForm(forms.ModelForm):
    make_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["make_primary"].initial = self.instance.is_primary

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.number} · {obj.get_status_display()} · {obj.total}"


class ComplaintForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["order", "category", "subject", "description", "assignee"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}
        field_classes = {"order": OrderChoiceField, "assignee": UserChoiceField}

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = customer.orders.order_by("-created_at", "-pk")
        self.fields["order"].help_text = _("Only this customer's orders.")
        self.fields["order"].error_messages["invalid_choice"] = _("Choose one of this customer's orders.")
        self.fields["assignee"].queryset = staff_users()

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise forms.ValidationError(_("Say in a few words what the complaint is about."))
        return subject


class ComplaintTransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("start", "resolve", "close", "reopen")], widget=forms.HiddenInput)
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("action") == "resolve" and not (data.get("resolution") or "").strip():
            self.add_error("resolution", _("Write down how the complaint was resolved."))
        return data

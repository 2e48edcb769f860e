"""Forms of the customer pages: each field says clearly what is wrong with what was typed."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .filters import UserChoiceField, staff_users
from .models import Address, Complaint, Contact, Customer
from .services import BLOCK_REASON_MAX, CUSTOMER_FIELDS

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


class CustomerForm(forms.ModelForm):
    # When the page was loaded: an edit based on an older state of the customer is refused.
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"salesperson": UserChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salesperson"].queryset = staff_users()
        self.fields["credit_limit"].validators.append(MaxValueValidator(MAX_CREDIT_LIMIT))
        self.fields["credit_limit"].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["payment_terms_days"].max_value = MAX_PAYMENT_TERMS_DAYS
        self.fields["payment_terms_days"].validators.append(MaxValueValidator(MAX_PAYMENT_TERMS_DAYS))
        self.fields["payment_terms_days"].widget.attrs.update({"min": "0", "max": str(MAX_PAYMENT_TERMS_DAYS)})
        self.fields["name"].widget.attrs["autofocus"] = True
        if self.instance.pk and not self.is_bound:
            self.initial["loaded_at"] = self.instance.updated_at.isoformat()

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
        value = self.cleaned_data["tax_id"].replace(" ", "").upper()
        if value and not TAX_ID.match(value):
            raise forms.ValidationError(_("A tax ID has 5 to 40 letters and digits, e.g. 91310000MA1K4XXXXX."))
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

    class Meta(CustomerForm.Meta):
        field_classes: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["loaded_at"]


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

"""The order entry form: the header (customer, address, channel...) and a formset of lines.

The draft lives in the form until it is saved: the live endpoints take the whole form, validate it
and render the lines with their amounts, computed by `orders.models.line_amounts` like the stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.money import ZERO
from config.rows import row_get, rows_fetch
from config.widgets import ZeroAsEmptyNumberInput
from customers.models import Address, Contact, Customer
from inventory.models import Product
from orders.models import MAX_LINE_QUANTITY, Channel, SalesOrder, line_amounts

from .services import (
    MAX_AMOUNT,
    MAX_ORDER_LINES,
    LineInput,
    NewAddress,
    NewCustomer,
    OrderHeader,
    line_problems,
    user_may_override_price,
)

LINES_PREFIX = "lines"
LINE_FIELDS = ("product", "quantity", "unit_price", "discount_percent")
NEW_ADDRESS_FIELDS = (
    "new_address_recipient",
    "new_address_phone",
    "new_address_line1",
    "new_address_city",
    "new_address_province",
    "new_address_postal_code",
)
NEW_ADDRESS_REQUIRED = ("new_address_recipient", "new_address_line1", "new_address_city")


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class CustomerRowChoiceField(forms.ModelChoiceField):
    """A choice among the chosen customer's rows (`of_customer`: the columns that make a row theirs), checked
    with one statement built once instead of the queryset's (every order entered validates two of them)."""

    of_customer: dict | None = None

    def to_python(self, value):
        if self.of_customer is None or value in self.empty_values:
            return super().to_python(value)
        model = self.queryset.model
        pk = value.pk if isinstance(value, model) else _int_or_none(value)
        found = rows_fetch(model, where={**self.of_customer, "id": pk}) if pk is not None else []
        if not found:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found[0]


class CustomerAddressChoiceField(CustomerRowChoiceField):
    def label_from_instance(self, obj: Address) -> str:
        return obj.one_line()


class ChosenCustomerField(forms.ModelChoiceField):
    """The customer field: the customer the form already read for its address and contact choices (`chosen`) is
    the cleaned value without reading it again."""

    chosen: Customer | None = None

    def to_python(self, value):
        if self.chosen is not None and value not in self.empty_values and str(value) == str(self.chosen.pk):
            return self.chosen
        return super().to_python(value)


class OrderHeaderForm(forms.Form):
    """Who orders, where it goes, how it came in; `submitting` adds what a submission needs."""

    customer = ChosenCustomerField(
        queryset=Customer.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        label=_("Customer"),
        error_messages={"invalid_choice": _("That customer does not exist any more; search again.")},
    )
    new_customer_name = forms.CharField(label=_("New customer's name"), max_length=200, required=False)
    new_customer_phone = forms.CharField(label=_("New customer's phone"), max_length=40, required=False)
    shipping_address = CustomerAddressChoiceField(
        queryset=Address.objects.none(),
        required=False,
        label=_("Shipping address"),
        empty_label=_("— choose —"),
        error_messages={"invalid_choice": _("Choose one of this customer's shipping addresses.")},
    )
    new_address_recipient = forms.CharField(label=_("Recipient"), max_length=120, required=False)
    new_address_phone = forms.CharField(label=_("Recipient's phone"), max_length=40, required=False)
    new_address_line1 = forms.CharField(label=_("Street address"), max_length=200, required=False)
    new_address_city = forms.CharField(label=_("City"), max_length=80, required=False)
    new_address_province = forms.CharField(label=_("Province / state"), max_length=80, required=False)
    new_address_postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    contact = CustomerRowChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        label=_("Contact"),
        empty_label=_("— none —"),
        error_messages={"invalid_choice": _("Choose one of this customer's contacts.")},
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    customer_po = forms.CharField(label=_("Customer PO number"), max_length=60, required=False)
    requested_date = forms.DateField(
        label=_("Requested delivery date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.submitting = submitting
        raw = self.data.get(self.add_prefix("customer")) if self.is_bound else self.initial.get("customer")
        customer_id = _int_or_none(getattr(raw, "pk", raw))
        self.selected_customer = row_get(Customer, customer_id) if customer_id else None
        self.fields["customer"].chosen = self.selected_customer
        if self.selected_customer is not None:
            self.fields["shipping_address"].queryset = Address.objects.filter(
                customer=self.selected_customer, kind=Address.Kind.SHIPPING
            )
            self.fields["shipping_address"].of_customer = {
                "customer_id": self.selected_customer.pk,
                "kind": Address.Kind.SHIPPING.value,
            }
            self.fields["contact"].queryset = Contact.objects.filter(customer=self.selected_customer)
            self.fields["contact"].of_customer = {"customer_id": self.selected_customer.pk}

    def new_address_fields(self):
        return [self[name] for name in NEW_ADDRESS_FIELDS]

    def clean_customer_po(self) -> str:
        return self.cleaned_data["customer_po"].strip()

    def clean_requested_date(self):
        value = self.cleaned_data["requested_date"]
        unchanged = value is not None and value == self.initial.get("requested_date")
        if value is not None and value < timezone.localdate() and not unchanged:
            raise ValidationError(_("The requested delivery date cannot be in the past."))
        return value

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        new_name = (cleaned.get("new_customer_name") or "").strip()
        # With a customer chosen the page shows no new-customer fields: whatever they held is ignored.
        if customer is None and "customer" not in self.errors:
            if not new_name:
                self.add_error("customer", _("Choose a customer, or enter a new customer's name."))
            elif self.user is not None and not self.user.has_perm("customers.add_customer"):
                self.add_error("new_customer_name", _("You may not create customers; choose an existing one."))

        typed_address = any((cleaned.get(name) or "").strip() for name in NEW_ADDRESS_FIELDS)
        if typed_address:
            for name in NEW_ADDRESS_REQUIRED:
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, _("Needed for a new address."))
            if cleaned.get("shipping_address") is not None:
                self.add_error("shipping_address", _("Choose an address or enter a new one, not both."))

        if self.submitting:
            if customer is not None and customer.is_blocked:
                self.add_error(
                    "customer",
                    _("%(customer)s is blocked (%(reason)s): the order cannot be submitted.")
                    % {"customer": customer.name, "reason": customer.blocked_reason},
                )
            if cleaned.get("shipping_address") is None and not typed_address and "shipping_address" not in self.errors:
                self.add_error("shipping_address", _("A shipping address is needed to submit the order."))
        return cleaned

    def header(self) -> OrderHeader:
        cleaned = self.cleaned_data
        customer = cleaned["customer"] or NewCustomer(
            name=cleaned["new_customer_name"].strip(), phone=cleaned["new_customer_phone"].strip()
        )
        address = cleaned["shipping_address"]
        if address is None and cleaned["new_address_recipient"].strip():
            address = NewAddress(
                recipient=cleaned["new_address_recipient"].strip(),
                line1=cleaned["new_address_line1"].strip(),
                city=cleaned["new_address_city"].strip(),
                phone=cleaned["new_address_phone"].strip(),
                province=cleaned["new_address_province"].strip(),
                postal_code=cleaned["new_address_postal_code"].strip(),
            )
        return OrderHeader(
            customer=customer,
            shipping_address=address,
            contact=cleaned["contact"],
            channel=cleaned["channel"],
            customer_po=cleaned["customer_po"],
            requested_date=cleaned["requested_date"],
            notes=cleaned["notes"],
        )

    @staticmethod
    def initial_for(order: SalesOrder) -> dict:
        return {
            "customer": order.customer_id,
            "shipping_address": order.shipping_address_id,
            "contact": order.contact_id,
            "channel": order.channel,
            "customer_po": order.customer_po,
            "requested_date": order.requested_date,
            "notes": order.notes,
            "version": order.version,
        }

    @staticmethod
    def initial_for_customer(customer: Customer) -> dict:
        """A freshly chosen customer: its default shipping address and primary contact are preselected."""
        addresses = list(customer.addresses.filter(kind=Address.Kind.SHIPPING).order_by("-is_default", "pk")[:1])
        contacts = list(customer.contacts.order_by("-is_primary", "name")[:1])
        return {
            "customer": customer.pk,
            "shipping_address": addresses[0].pk if addresses else None,
            "contact": contacts[0].pk if contacts else None,
        }


class OrderLineForm(forms.Form):
    product = forms.IntegerField(widget=forms.HiddenInput, min_value=1, error_messages={"required": _("Choose a product.")})
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Empty: the list price."),
        widget=forms.NumberInput(attrs={"class": "price", "inputmode": "decimal"}),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        widget=ZeroAsEmptyNumberInput(attrs={"class": "discount", "inputmode": "decimal"}),
    )


@dataclass
class LineRow:
    """One line as the form shows it: the form, its product and, when valid, its amounts."""

    form: OrderLineForm
    index: int
    product: Product | None
    net: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    availability: list | None = None

    @property
    def tax_percent(self) -> str:
        """The product's tax rate as a percentage: 0.1300 -> "13"."""
        if self.product is None:
            return ""
        return f"{(self.product.tax_rate * 100).normalize():f}"


class BaseOrderLineFormSet(forms.BaseFormSet):
    """The lines; their products are fetched in one query, whatever the number of lines."""

    def __init__(self, *args, user=None, submitting: bool = False, **kwargs):
        kwargs.setdefault("prefix", LINES_PREFIX)
        super().__init__(*args, **kwargs)
        self.user = user
        self.submitting = submitting
        ids = {pid for pid in (self._raw_product_id(form) for form in self.forms) if pid}
        self.products: dict[int, Product] = (
            {product.pk: product for product in rows_fetch(Product, where={"id": sorted(ids)})} if ids else {}
        )

    @property
    def over_limit(self) -> bool:
        """More lines were posted than an order may hold: the whole post is refused (400), never truncated."""
        if not self.is_bound:
            return False
        total = _int_or_none(self.data.get(f"{self.prefix}-TOTAL_FORMS"))
        return total is not None and total > self.absolute_max

    def total_form_count(self):
        """A posted count above the limit builds only the lines actually posted (at most the limit)."""
        count = super().total_form_count()
        if not self.over_limit:
            return count
        present = [i for i in range(count) if any(f"{self.prefix}-{i}-{name}" in self.data for name in LINE_FIELDS)]
        return present[-1] + 1 if present else 0

    def _construct_form(self, i, **kwargs):
        kwargs["empty_permitted"] = False  # every posted line is a line: a blank one is an error, not ignored
        return super()._construct_form(i, **kwargs)

    @staticmethod
    def _raw_product_id(form) -> int | None:
        raw = form.data.get(form.add_prefix("product")) if form.is_bound else form.initial.get("product")
        return _int_or_none(raw)

    def clean(self):
        may_override = user_may_override_price(self.user)
        valid_lines = 0
        gross_total = ZERO
        for form in self.forms:
            cleaned = getattr(form, "cleaned_data", None)
            if cleaned is None or "product" not in cleaned:
                continue
            product = self.products.get(cleaned["product"])
            if product is None:
                form.add_error("product", _("This product does not exist."))
                continue
            if cleaned.get("unit_price") is None and "unit_price" not in form.errors:
                cleaned["unit_price"] = product.list_price
            if cleaned.get("discount_percent") is None and "discount_percent" not in form.errors:
                cleaned["discount_percent"] = ZERO
            if any(name not in cleaned for name in ("quantity", "unit_price", "discount_percent")):
                continue
            problems = line_problems(
                product=product,
                quantity=cleaned["quantity"],
                unit_price=cleaned["unit_price"],
                discount_percent=cleaned["discount_percent"],
                may_override_price=may_override,
            )
            for field, message in problems:
                form.add_error(None if field == "__all__" else field, message)
            if not problems:
                valid_lines += 1
                gross_total += line_amounts(
                    quantity=cleaned["quantity"],
                    unit_price=cleaned["unit_price"],
                    discount_percent=cleaned["discount_percent"],
                    tax_rate=product.tax_rate,
                )[2]
        if gross_total > MAX_AMOUNT:
            raise ValidationError(_("The order total is too large; split it into several orders."))
        if self.submitting and not self.forms:
            raise ValidationError(_("Add at least one line before submitting the order."))

    def line_inputs(self) -> list[LineInput]:
        """The valid lines, for the services."""
        return [
            LineInput(
                product=self.products[form.cleaned_data["product"]],
                quantity=form.cleaned_data["quantity"],
                unit_price=form.cleaned_data["unit_price"],
                discount_percent=form.cleaned_data["discount_percent"],
            )
            for form in self.forms
        ]

    def rows(self, availability: dict | None = None) -> list[LineRow]:
        rows = []
        for index, form in enumerate(self.forms):
            product = self.products.get(self._raw_product_id(form))
            row = LineRow(form=form, index=index, product=product)
            if product is not None and availability is not None:
                row.availability = availability.get(product.pk, [])
            cleaned = getattr(form, "cleaned_data", None) or {}
            if product is not None and not form.errors and "quantity" in cleaned:
                row.net, row.tax, row.total = line_amounts(
                    quantity=cleaned["quantity"],
                    unit_price=cleaned["unit_price"],
                    discount_percent=cleaned["discount_percent"],
                    tax_rate=product.tax_rate,
                )
            rows.append(row)
        return rows


OrderLineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=BaseOrderLineFormSet,
    extra=0,
    max_num=MAX_ORDER_LINES,
    absolute_max=MAX_ORDER_LINES,
    validate_max=True,
)


# --- the lines as raw form data: what the live endpoints add to, increment and remove ------------


def line_rows_from(data) -> list[dict[str, str]]:
    """The posted lines as they were typed (strings), in order."""
    total = _int_or_none(data.get(f"{LINES_PREFIX}-TOTAL_FORMS")) or 0
    total = max(0, min(total, MAX_ORDER_LINES))
    return [{name: data.get(f"{LINES_PREFIX}-{i}-{name}", "") for name in LINE_FIELDS} for i in range(total)]


def line_rows_for(order: SalesOrder) -> list[dict[str, str]]:
    return [
        {
            "product": str(line.product_id),
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount_percent": str(line.discount_percent),
        }
        for line in order.lines.all()
    ]


def line_data(rows: list[dict[str, str]]) -> dict[str, str]:
    """Form data for the line formset holding exactly these rows."""
    data = {
        f"{LINES_PREFIX}-TOTAL_FORMS": str(len(rows)),
        f"{LINES_PREFIX}-INITIAL_FORMS": "0",
        f"{LINES_PREFIX}-MIN_NUM_FORMS": "0",
        f"{LINES_PREFIX}-MAX_NUM_FORMS": str(MAX_ORDER_LINES),
    }
    for i, row in enumerate(rows):
        for name in LINE_FIELDS:
            data[f"{LINES_PREFIX}-{i}-{name}"] = row.get(name, "")
    return data


def line_rows_add(rows: list[dict[str, str]], product: Product) -> list[dict[str, str]]:
    """A scanned or chosen product: one more of it if it is on the order, else a new line at list price."""
    for row in rows:
        if _int_or_none(row.get("product")) == product.pk:
            quantity = _int_or_none(row.get("quantity"))
            if quantity is not None:
                row["quantity"] = str(quantity + 1)
            return rows
    rows.append({"product": str(product.pk), "quantity": "1", "unit_price": str(product.list_price), "discount_percent": "0"})
    return rows


def line_rows_remove(rows: list[dict[str, str]], index: int) -> list[dict[str, str]]:
    return [row for i, row in enumerate(rows) if i != index]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the order is cancelled.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the order is cancelled."))
        return reason

"""Bad input on the order entry form: a clear message on the form, a 200, and nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from config.numbering import NumberSequence
from customers.models import Address, Customer
from orders.entry.services import MAX_ORDER_LINES
from orders.models import SalesOrder, SalesOrderLine
from orders.tests.entry_data import entry_post
from orders.tests.factories import AddressFactory, ContactFactory, ProductFactory, customer_with_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CREATE = reverse("orders:create")


@pytest.fixture
def clerk(client_as):
    return client_as("sales")


@pytest.fixture
def setting():
    customer, address = customer_with_address()
    product = ProductFactory(list_price=Decimal("100.00"))
    return customer, address, product


def assert_refused(response, message: str) -> None:
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body, f"{message!r} not on the page"
    assert SalesOrder.objects.count() == 0
    assert SalesOrderLine.objects.count() == 0
    assert not NumberSequence.objects.filter(key="sales_order", last_value__gt=0).exists()


def line(product_row, /, **raw):
    return {"product": str(product_row.pk), "quantity": "1", "unit_price": "100.00", "discount_percent": "0", **raw}


LINE_CASES = [
    ("quantity", "abc", "Enter a whole number."),
    ("quantity", "1.5", "Enter a whole number."),
    ("quantity", "-1", "Ensure this value is greater than or equal to 1."),
    ("quantity", "0", "Ensure this value is greater than or equal to 1."),
    ("quantity", "1000001", "Ensure this value is less than or equal to 1000000."),
    ("quantity", "99999999999999999999999", "Ensure this value is less than or equal to 1000000."),
    ("quantity", "", "This field is required."),
    ("unit_price", "abc", "Enter a number."),
    ("unit_price", "NaN", "Enter a number."),
    ("unit_price", "-5", "Ensure this value is greater than or equal to 0."),
    ("unit_price", "12.345", "Ensure that there are no more than 2 decimal places."),
    ("unit_price", "1e20", "Ensure that there are no more than 14 digits in total."),
    ("discount_percent", "abc", "Enter a number."),
    ("discount_percent", "-1", "Ensure this value is greater than or equal to 0."),
    ("discount_percent", "101", "Ensure this value is less than or equal to 100."),
    ("discount_percent", "9.999", "Ensure that there are no more than 2 decimal places."),
    ("product", "abc", "Enter a whole number."),
    ("product", "999999", "This product does not exist."),
    ("product", "", "Choose a product."),
]


@pytest.mark.parametrize(("field", "value", "message"), LINE_CASES, ids=[f"{f}={v!r}" for f, v, _m in LINE_CASES])
@pytest.mark.parametrize("action", ["save", "submit"])
def test_bad_line_input_is_refused_with_a_message(clerk, setting, field, value, message, action):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[line(product, **{field: value})], action=action)
    assert_refused(clerk.post(CREATE, data), message)


HEADER_CASES = [
    ("customer", "", "Choose a customer, or enter a new customer"),
    ("customer", "abc", "That customer does not exist any more"),
    ("customer", "999999", "That customer does not exist any more"),
    ("channel", "fax", "Select a valid choice."),
    ("customer_po", "P" * 61, "Ensure this value has at most 60 characters"),
    ("requested_date", "2026-13-45", "Enter a valid date."),
    ("notes", "x" * 2001, "Ensure this value has at most 2000 characters"),
    ("version", "abc", "version was not understood"),
]


@pytest.mark.parametrize(("field", "value", "message"), HEADER_CASES, ids=[f"{f}" for f, _v, _m in HEADER_CASES])
def test_bad_header_input_is_refused_with_a_message(clerk, setting, field, value, message):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")])
    data[field] = value
    if field == "customer":
        data["shipping_address"] = ""
    assert_refused(clerk.post(CREATE, data), message)


def test_requested_date_in_the_past_is_refused(clerk, setting):
    customer, address, product = setting
    yesterday = timezone.localdate() - timedelta(days=1)
    data = entry_post(
        customer=customer, address=address, lines=[(product, 1, "100.00", "0")], requested_date=yesterday.isoformat()
    )
    assert_refused(clerk.post(CREATE, data), "cannot be in the past")


def test_address_of_another_customer_is_refused(clerk, setting):
    customer, _address, product = setting
    _other, foreign_address = customer_with_address()
    data = entry_post(customer=customer, address=foreign_address, lines=[(product, 1, "100.00", "0")])
    assert_refused(clerk.post(CREATE, data), "Choose one of this customer&#x27;s shipping addresses.")


def test_contact_of_another_customer_is_refused(clerk, setting):
    customer, address, product = setting
    foreign_contact = ContactFactory()
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], contact=foreign_contact.pk)
    assert_refused(clerk.post(CREATE, data), "Choose one of this customer&#x27;s contacts.")


def test_inactive_product_is_refused(clerk, setting):
    customer, address, _product = setting
    retired = ProductFactory(is_active=False, sku="OLD-1")
    data = entry_post(customer=customer, address=address, lines=[(retired, 1, "100.00", "0")])
    assert_refused(clerk.post(CREATE, data), "is no longer sold (inactive)")


def test_price_below_the_products_minimum_is_refused_for_sales(clerk, setting):
    customer, address, _product = setting
    product = ProductFactory(list_price=Decimal("100.00"), min_price=Decimal("90.00"), sku="MIN-90")
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "89.99", "0")])
    assert_refused(clerk.post(CREATE, data), "below the lowest allowed price 90.00 of MIN-90")


def test_discount_bringing_the_price_under_the_minimum_is_refused(clerk, setting):
    customer, address, _product = setting
    product = ProductFactory(list_price=Decimal("100.00"), min_price=Decimal("90.00"), sku="MIN-90")
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "10.01")])
    assert_refused(clerk.post(CREATE, data), "below the lowest allowed price")


def test_discount_over_the_products_maximum_is_refused_for_sales(clerk, setting):
    customer, address, _product = setting
    product = ProductFactory(max_discount_percent=Decimal("10"), sku="MAX-10")
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "15")])
    assert_refused(clerk.post(CREATE, data), "At most 10 % discount on MAX-10")


def test_a_user_who_may_review_prices_may_go_below_the_floor(client_as, setting):
    customer, address, _product = setting
    product = ProductFactory(list_price=Decimal("100.00"), min_price=Decimal("90.00"), max_discount_percent=Decimal("5"))
    client = client_as("sales", "manager")  # holds orders.review_salesorder, the price override
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "80.00", "20")])
    response = client.post(CREATE, data)
    assert response.status_code == 302
    saved = SalesOrderLine.objects.get()
    assert (saved.unit_price, saved.discount_percent) == (Decimal("80.00"), Decimal("20.00"))


def test_a_line_too_large_for_the_books_is_refused(clerk, setting):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[(product, 1000000, "999999999999.99", "0")])
    assert_refused(clerk.post(CREATE, data), "The line amount is too large.")


def test_blocked_customer_cannot_be_submitted_and_the_reason_is_shown(clerk):
    customer, address = customer_with_address(is_blocked=True, blocked_reason="Unpaid invoices since March")
    product = ProductFactory()
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], action="submit")
    assert_refused(clerk.post(CREATE, data), "Unpaid invoices since March")


def test_blocked_customer_may_still_get_a_draft(clerk):
    customer, address = customer_with_address(is_blocked=True, blocked_reason="Unpaid invoices since March")
    product = ProductFactory()
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], action="save")
    assert clerk.post(CREATE, data).status_code == 302
    assert SalesOrder.objects.get().status == "draft"


def test_submitting_without_an_address_is_refused(clerk, setting):
    customer, _address, product = setting
    data = entry_post(customer=customer, address=None, lines=[(product, 1, "100.00", "0")], action="submit")
    assert_refused(clerk.post(CREATE, data), "A shipping address is needed to submit the order.")


def test_submitting_without_lines_is_refused(clerk, setting):
    customer, address, _product = setting
    data = entry_post(customer=customer, address=address, lines=[], action="submit")
    assert_refused(clerk.post(CREATE, data), "Add at least one line before submitting the order.")


def test_tampered_line_count_is_refused(clerk, setting):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")])
    data["lines-TOTAL_FORMS"] = "abc"
    assert_refused(clerk.post(CREATE, data), "ManagementForm data is missing or has been tampered with")


def test_more_lines_than_an_order_may_hold_are_refused(clerk, setting):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")] * (MAX_ORDER_LINES + 1))
    response = clerk.post(CREATE, data)
    assert response.status_code == 400  # more lines than an order holds: a bad request, the message on the form
    assert f"Please submit at most {MAX_ORDER_LINES} forms." in response.content.decode()
    assert SalesOrder.objects.count() == 0


def test_a_new_customer_is_not_created_when_a_line_is_wrong(clerk):
    product = ProductFactory()
    data = entry_post(
        lines=[(product, "abc", "100.00", "0")],
        new_customer_name="新客户有限公司",
        new_customer_phone="010-1234",
        new_address_recipient="王五",
        new_address_line1="长安街 1 号",
        new_address_city="北京",
    )
    customers_before = Customer.objects.count()
    assert_refused(clerk.post(CREATE, data), "Enter a whole number.")
    assert Customer.objects.count() == customers_before
    assert Address.objects.count() == 0


def test_a_half_typed_new_address_asks_for_the_rest(clerk, setting):
    customer, _address, product = setting
    data = entry_post(customer=customer, lines=[(product, 1, "100.00", "0")], new_address_recipient="王五")
    response = clerk.post(CREATE, data)
    assert_refused(response, "Needed for a new address.")
    form = response.context["form"]
    assert set(form.errors) == {"new_address_line1", "new_address_city"}


def test_choosing_an_address_and_typing_a_new_one_is_refused(clerk, setting):
    customer, address, product = setting
    data = entry_post(
        customer=customer,
        address=address,
        lines=[(product, 1, "100.00", "0")],
        new_address_recipient="王五",
        new_address_line1="长安街 1 号",
        new_address_city="北京",
    )
    assert_refused(clerk.post(CREATE, data), "Choose an address or enter a new one, not both.")


def test_a_chosen_customer_wins_over_stale_new_customer_fields(clerk, setting):
    customer, address, product = setting
    customers_before = Customer.objects.count()
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], new_customer_name="Another")
    assert clerk.post(CREATE, data).status_code == 302
    assert SalesOrder.objects.get().customer == customer
    assert Customer.objects.count() == customers_before


def test_entering_a_new_customer_needs_the_permission_to_create_customers(client_as):
    client = client_as("sales")
    product = ProductFactory()
    from django.contrib.auth.models import Permission

    client.user.groups.first().permissions.remove(Permission.objects.get(codename="add_customer"))
    data = entry_post(lines=[(product, 1, "100.00", "0")], new_customer_name="新客户")
    assert_refused(client.post(CREATE, data), "You may not create customers")


def test_errors_keep_what_was_typed(clerk, setting):
    customer, address, product = setting
    data = entry_post(customer=customer, address=address, lines=[(product, "abc", "95.50", "3")], customer_po="PO-777")
    body = clerk.post(CREATE, data).content.decode()
    assert 'value="PO-777"' in body
    assert 'value="95.50"' in body and 'value="abc"' in body
    assert AddressFactory._meta.model.objects.filter(customer=customer).count() == 1

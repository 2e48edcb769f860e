from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Address, Customer, CustomerEvent
from tests.queries import assert_constant_queries
from tests.submissions import with_token

from .factories import AddressFactory, ComplaintFactory, ContactFactory, CustomerFactory, make_order

pytestmark = pytest.mark.django_db

VALID = {
    "name": "上海华东贸易有限公司",
    "alt_name": "Shanghai Huadong Trading Co., Ltd.",
    "kind": "company",
    "tax_id": "91310000MA1K4ABC1B",
    "phone": "+86 21 5555 0100",
    "email": "buyer@huadong.example",
    "language": "zh-hans",
    "credit_limit": "200000.00",
    "credit_rating": "A",
    "payment_terms_days": "30",
    "segment": "wholesale",
    "tags": "华东，VIP、wholesale",
    "salesperson": "",
    "notes": "",
}


def test_salesperson_creates_a_customer_through_the_page(client_as):
    client = client_as("sales")
    response = client.post(reverse("customers:create"), with_token(VALID))
    customer = Customer.objects.get()
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    assert customer.code.startswith("C")
    assert customer.tags == "华东, VIP, wholesale"
    assert customer.events.get().by == client.user


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "   ", "This field is required"),
        ("credit_limit", "abc", "Enter a number"),
        ("credit_limit", "-1", "greater than or equal to 0"),
        ("credit_limit", "1" + "0" * 20, "no more than 14 digits"),
        ("credit_limit", "NaN", "Enter a number"),
        ("credit_limit", "Infinity", "Enter a number"),
        ("payment_terms_days", "thirty", "Enter a whole number"),
        ("payment_terms_days", "-5", "greater than or equal to 0"),
        ("payment_terms_days", "99999", "less than or equal to 365"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("tax_id", "税号!!", "tax ID"),
        ("tax_id", "91310000MA1K4ABC12", "This tax ID's check character is wrong: please check for a typo."),
        ("tax_id", "91310000MA1K4ABC1Z", "other than I, O, Z, S and V"),
        ("kind", "alien", "Select a valid choice"),
        ("credit_rating", "Z", "Select a valid choice"),
        ("salesperson", "abc", "Select a valid choice"),
        ("salesperson", "999999", "Select a valid choice"),
        ("name", "x" * 201, "at most 200 characters"),
        ("notes", "bad\x00byte", "Null characters are not allowed"),
    ],
)
def test_garbage_in_any_customer_field_gives_a_form_error_and_creates_nothing(client_as, field, value, message):
    # Credit terms are offered to those who may set them (a manager); sales never see those fields.
    client = client_as("manager" if field in ("credit_limit", "credit_rating", "payment_terms_days") else "sales")
    response = client.post(reverse("customers:create"), with_token({**VALID, field: value}))
    assert response.status_code == 400
    errors = " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert message in errors
    assert not Customer.objects.exists()


def test_edit_shows_a_clear_error_when_someone_else_saved_first(client_as):
    customer = CustomerFactory()
    client = client_as("sales")
    page = client.get(reverse("customers:edit", args=[customer.pk]))
    loaded_at = page.context["form"].initial["loaded_at"]
    Customer.objects.filter(pk=customer.pk).update(phone="+86 10 8888 0000")
    Customer.objects.get(pk=customer.pk).save()  # bumps updated_at as another user's save would
    response = client.post(reverse("customers:edit", args=[customer.pk]), {**VALID, "loaded_at": loaded_at})
    assert response.status_code == 400
    assert "Someone else changed this customer" in response.content.decode()


def test_edit_records_the_change_on_the_360_page(client_as):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    client = client_as("manager")
    page = client.get(reverse("customers:edit", args=[customer.pk]))
    data = {
        **VALID,
        "name": customer.name,
        "credit_limit": "3000.00",
        "credit_note": "Two years of payments on time.",
        "loaded_at": page.context["form"].initial["loaded_at"],
    }
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "1000.00" in body and "3000.00" in body and "Edited" in body
    assert "Two years of payments on time." in body, "why the credit terms changed is on the timeline"


@pytest.mark.parametrize("query", ["华东", "huadong", "HUADONG", "C0", "5555 0100", "91310000"])
def test_search_finds_customers_by_chinese_and_latin_names_code_phone_and_tax_id(client_as, query):
    CustomerFactory(
        code="C000777",
        name="上海华东贸易有限公司",
        alt_name="Shanghai Huadong Trading",
        phone="+86 21 5555 0100",
        tax_id="91310000MA1K4ABC12",
    )
    CustomerFactory(code="X000001", name="北京燕山五金", alt_name="Beijing Yanshan Hardware", phone="010 1234 5678")
    response = client_as("sales").get(reverse("customers:list"), {"q": query})
    names = [c.name for c in response.context["page_obj"]]
    assert names == ["上海华东贸易有限公司"]


def test_list_filters_combine(client_as, make_user):
    seller = make_user("sales")
    wanted = CustomerFactory(
        segment="retail", credit_rating="C", is_blocked=True, blocked_reason="逾期", salesperson=seller, kind="individual"
    )
    CustomerFactory(segment="retail", credit_rating="C")
    CustomerFactory(segment="wholesale", is_blocked=True, blocked_reason="逾期")
    response = client_as("manager").get(
        reverse("customers:list"),
        {
            "segment": "retail",
            "credit_rating": "C",
            "is_blocked": "true",
            "salesperson": seller.pk,
            "kind": "individual",
        },
    )
    assert list(response.context["page_obj"]) == [wanted]


def test_invalid_filter_values_are_ignored_not_a_500(client_as):
    CustomerFactory()
    response = client_as("sales").get(
        reverse("customers:list"), {"salesperson": "abc", "kind": "zzz", "sort": "evil", "page": "x"}
    )
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 1


def test_htmx_search_returns_only_the_results_partial(client_as):
    CustomerFactory(name="宁波港口物流")
    response = client_as("sales").get(reverse("customers:list"), {"q": "宁波"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="results"' in body and "宁波港口物流" in body
    assert "<html" not in body


def test_list_is_empty_state_when_nothing_matches(client_as):
    body = client_as("sales").get(reverse("customers:list"), {"q": "nothing-like-this"}).content.decode()
    assert "No customer matches these filters." in body


def test_customer_360_shows_credit_orders_complaints_and_timeline(client_as, make_user):
    seller = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("10000.00"))
    make_order(customer=customer, user=seller, status="approved", total=Decimal("7000.00"))
    make_order(customer=customer, user=seller, status="shipped", total=Decimal("4000.00"))
    make_order(customer=customer, user=seller, status="draft", total=Decimal("999.00"))
    ComplaintFactory(customer=customer, subject="外箱破损")
    CustomerEvent.objects.create(
        customer=customer, kind="edited", by=seller, changes=[{"field": "phone", "old": "1", "new": "2"}]
    )
    response = client_as("sales").get(customer.get_absolute_url())
    assert response.status_code == 200
    assert response.context["exposure"] == Decimal("11000.00")
    assert response.context["available_credit"] == Decimal("-1000.00")
    assert response.context["over_limit"]
    [orders_panel] = response.context["panels"]
    assert orders_panel.key == "orders" and orders_panel.count == 3
    body = response.content.decode()
    assert "外箱破损" in body and "SO-T-" in body and "over-limit" in body


def test_reviewer_sees_the_360_page_but_no_edit_or_block_buttons(client_as):
    customer = CustomerFactory()
    body = client_as("reviewer").get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:edit", args=[customer.pk]) not in body
    assert reverse("customers:block", args=[customer.pk]) not in body


@pytest.mark.parametrize(
    "role, url_name, method, status",
    [
        ("warehouse", "customers:create", "get", 403),
        ("reviewer", "customers:create", "get", 403),
        ("finance", "customers:create", "get", 403),
        ("reviewer", "customers:edit", "get", 403),
        ("warehouse", "customers:edit", "get", 403),
        ("sales", "customers:block", "get", 403),
        ("sales", "customers:block", "post", 403),
        ("reviewer", "customers:unblock", "post", 403),
        ("finance", "customers:block", "get", 200),
        ("manager", "customers:block", "get", 200),
        ("warehouse", "customers:import", "get", 403),
        ("finance", "customers:import", "get", 403),
        ("reviewer", "customers:export", "get", 403),
        ("warehouse", "customers:export", "get", 403),
        ("finance", "customers:export", "get", 200),
        ("reviewer", "customers:address_create", "get", 403),
        ("reviewer", "customers:contact_create", "get", 403),
        ("warehouse", "customers:list", "get", 200),
        ("sales", "customers:edit", "get", 200),
    ],
)
def test_permissions_per_role(client_as, role, url_name, method, status):
    customer = CustomerFactory()
    needs_pk = url_name not in ("customers:create", "customers:import", "customers:export", "customers:list")
    url = reverse(url_name, args=[customer.pk] if needs_pk else [])
    client = client_as(role)
    response = client.post(url, {"reason": "x"}) if method == "post" else client.get(url)
    assert response.status_code == status
    customer.refresh_from_db()
    assert not customer.is_blocked


def test_finance_blocks_with_a_reason_through_the_page(client_as):
    customer = CustomerFactory()
    client = client_as("finance")
    response = client.post(reverse("customers:block", args=[customer.pk]), {"reason": "  "})
    assert response.status_code == 400 and "Give a reason" in response.content.decode()
    response = client.post(
        reverse("customers:block", args=[customer.pk]), {"reason": "Invoice INV-2026-000031 is 95 days overdue"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_blocked
    response = client.post(reverse("customers:unblock", args=[customer.pk]), {"reason": "x" * 301})
    assert response.status_code == 400
    response = client.post(reverse("customers:unblock", args=[customer.pk]), {"reason": "Paid"})
    customer.refresh_from_db()
    assert not customer.is_blocked


def test_address_pages_add_edit_default_and_remove(client_as):
    customer = CustomerFactory()
    client = client_as("sales")
    data = {
        "kind": "shipping",
        "recipient": "王伟",
        "phone": "13800138000",
        "line1": "世纪大道 100 号",
        "line2": "",
        "city": "上海",
        "province": "上海市",
        "postal_code": "200120",
        "country": "cn",
    }
    assert client.post(reverse("customers:address_create", args=[customer.pk]), data).status_code == 302
    assert client.post(reverse("customers:address_create", args=[customer.pk]), {**data, "city": "苏州"}).status_code == 302
    first, second = Address.objects.filter(customer=customer).order_by("pk")
    assert first.is_default and first.country == "CN"
    client.post(reverse("customers:address_set_default", args=[customer.pk, second.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    response = client.post(reverse("customers:address_edit", args=[customer.pk, first.pk]), {**data, "country": "9Z"})
    assert response.status_code == 400 and "two-letter country code" in response.content.decode()
    client.post(reverse("customers:address_delete", args=[customer.pk, second.pk]))
    first.refresh_from_db()
    assert first.is_default and Address.objects.filter(customer=customer).count() == 1


def test_address_of_another_customer_is_not_found(client_as):
    mine, other = CustomerFactory(), CustomerFactory()
    address = AddressFactory(customer=other)
    client = client_as("sales")
    assert client.post(reverse("customers:address_delete", args=[mine.pk, address.pk])).status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()


def test_removal_needs_post(client_as):
    address = AddressFactory()
    response = client_as("sales").get(reverse("customers:address_delete", args=[address.customer_id, address.pk]))
    assert response.status_code == 405


def test_contact_pages_reject_bad_email(client_as):
    customer = CustomerFactory()
    client = client_as("sales")
    response = client.post(
        reverse("customers:contact_create", args=[customer.pk]), {"name": "Emily", "title": "", "phone": "", "email": "emily@"}
    )
    assert response.status_code == 400 and "Enter a valid email address" in response.content.decode()
    response = client.post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"name": "Emily", "title": "采购经理", "phone": "13900139000", "email": "emily@example.com"},
    )
    assert response.status_code == 302
    assert customer.contacts.get().is_primary


def test_customer_list_query_count_does_not_grow_with_rows(client_as, make_user):
    client = client_as("sales")
    seller = make_user("sales")

    def make_rows(n):
        for _ in range(n):
            CustomerFactory(salesperson=seller)

    assert_constant_queries(make_rows, lambda: client.get(reverse("customers:list")), sizes=(1, 12))


def test_customer_360_query_count_does_not_grow_with_rows(client_as, make_user):
    client = client_as("manager")
    seller = make_user("sales")
    customer = CustomerFactory()

    def make_rows(n):
        for _ in range(n):
            make_order(customer=customer, user=seller, status="approved", total=Decimal("10.00"))
            AddressFactory(customer=customer)
            ContactFactory(customer=customer)
            ComplaintFactory(customer=customer, assignee=seller)
            CustomerEvent.objects.create(
                customer=customer, kind="edited", by=seller, changes=[{"field": "name", "old": "a", "new": "b"}]
            )

    assert_constant_queries(make_rows, lambda: client.get(customer.get_absolute_url()), sizes=(1, 8))


def test_customer_pages_speak_chinese(client_as):
    customer = CustomerFactory(is_blocked=True, blocked_reason="逾期")
    client = client_as("manager")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("customers:list")).content.decode()
    assert "新建客户" in body and "导入" in body
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "可用额度" in body and "解冻" in body


def test_customer_page_without_order_panels_shows_the_credit_limit_alone(client_as, settings):
    """customers knows orders only through the providers named in settings."""
    settings.CUSTOMER_PAGE_PANELS = []
    customer = CustomerFactory(credit_limit=Decimal("10000.00"))
    response = client_as("sales").get(customer.get_absolute_url())
    assert response.status_code == 200
    assert response.context["panels"] == [] and response.context["exposure"] is None
    body = response.content.decode()
    assert "10,000.00" in body and "Available credit" not in body and 'id="orders"' not in body


def test_customer_without_addresses_offers_to_add_one_right_there(client_as):
    """Bug: the page said "No addresses yet" with no way to add one from it."""
    customer = CustomerFactory()
    client = client_as("sales")
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "No addresses yet" in body
    add_address = reverse("customers:address_create", args=[customer.pk])
    add_contact = reverse("customers:contact_create", args=[customer.pk])
    assert f'href="{add_address}?next=' in body and f'href="{add_contact}?next=' in body
    back = f"{customer.get_absolute_url()}#addresses"
    assert client.get(add_address, {"next": back}).context["back_url"] == back
    data = {"kind": "shipping", "recipient": "王伟", "line1": "世纪大道 100 号", "city": "上海", "country": "CN", "next": back}
    response = client.post(add_address, data)
    assert response.status_code == 302 and response.url == back, "back to the customer page"
    assert customer.addresses.get().is_default


def test_add_links_are_only_for_those_who_may_change_the_customer(client_as):
    customer = CustomerFactory()
    body = client_as("reviewer").get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:address_create", args=[customer.pk]) not in body
    assert reverse("customers:contact_create", args=[customer.pk]) not in body


def test_add_address_never_sends_the_user_off_site(client_as):
    customer = CustomerFactory()
    data = {"kind": "shipping", "recipient": "王伟", "line1": "世纪大道 100 号", "city": "上海", "country": "CN"}
    response = client_as("sales").post(
        reverse("customers:address_create", args=[customer.pk]), {**data, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("customers:edit", args=[customer.pk]) + "#addresses"


@pytest.mark.parametrize(
    "kind, tax_id",
    [
        ("company", "91440300708461136T"),  # a published unified social credit code
        ("company", "91440300 70846113 6t"),  # spaces and lower case are tidied, then checked
        ("company", "DE123456789"),  # a foreign company's number is no credit code
        ("individual", "11010519491231002X"),  # a person's ID number has a check digit of its own
    ],
)
def test_a_valid_tax_id_is_kept(client_as, kind, tax_id):
    client = client_as("sales")
    response = client.post(reverse("customers:create"), with_token({**VALID, "kind": kind, "tax_id": tax_id}))
    assert response.status_code == 302, response.context["form"].errors
    assert Customer.objects.get().tax_id == tax_id.replace(" ", "").upper()


def test_editing_a_company_with_a_mistyped_tax_id_names_the_check_character(client_as):
    customer = CustomerFactory(kind="company", tax_id="")
    client = client_as("manager")
    data = {**VALID, "tax_id": "91440300708461136A", "loaded_at": customer.updated_at.isoformat(), "credit_note": "新合同"}
    response = client.post(reverse("customers:edit", args=[customer.pk]), with_token(data))
    assert response.status_code == 400
    assert response.context["form"].errors["tax_id"] == ["This tax ID's check character is wrong: please check for a typo."]
    assert Customer.objects.get(pk=customer.pk).tax_id == ""

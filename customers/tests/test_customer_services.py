from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from config.actors import SYSTEM_NAMES, Actor
from config.errors import DomainError, PermissionRefused
from customers import services
from customers.models import Address, Contact, Customer, CustomerEvent

from .factories import AddressFactory, ContactFactory, CustomerFactory, make_order

pytestmark = pytest.mark.django_db


def test_new_customers_get_consecutive_codes_from_the_counter(staff):
    first = services.customer_create(data={"name": "上海华东贸易有限公司"}, by=staff)
    second = services.customer_create(data={"name": "Shanghai Huadong Trading Co., Ltd."}, by=staff)
    assert first.code.startswith("C") and len(first.code) == 7
    assert int(second.code[1:]) == int(first.code[1:]) + 1


def test_creating_a_customer_writes_who_created_it_on_the_timeline(make_user):
    manager = make_user("manager")  # a manager may set the credit limit of a new customer
    customer = services.customer_create(data={"name": "杭州西湖茶业", "credit_limit": Decimal("5000")}, by=manager)
    event = customer.events.get()
    assert event.kind == CustomerEvent.Kind.CREATED and event.by == manager
    assert {"field": "credit_limit", "old": None, "new": "5000"} in event.changes


def test_service_refuses_invalid_data_even_without_a_form(staff):
    with pytest.raises(ValidationError):
        services.customer_create(data={"name": "x", "email": "not-an-email"}, by=staff)
    assert not Customer.objects.exists()


def test_edit_records_each_changed_field_old_and_new(finance):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="B")
    services.customer_update(
        customer=customer, data={"credit_limit": Decimal("2500.00"), "credit_rating": "A", "name": customer.name}, by=finance
    )
    event = customer.events.get(kind=CustomerEvent.Kind.EDITED)
    assert event.by == finance
    assert sorted(event.changes, key=lambda c: c["field"]) == [
        {"field": "credit_limit", "old": "1000.00", "new": "2500.00"},
        {"field": "credit_rating", "old": "B", "new": "A"},
    ]
    rows = {row["field"]: row for row in event.change_rows()}
    assert rows["credit_rating"]["old"] == "B (good)" and rows["credit_rating"]["new"] == "A (excellent)"


def test_saving_without_changes_writes_no_event(staff):
    customer = CustomerFactory()
    services.customer_update(customer=customer, data={"name": customer.name}, by=staff)
    assert not customer.events.exists()


def test_edit_based_on_an_outdated_page_is_refused(staff):
    customer = CustomerFactory()
    loaded_at = customer.updated_at
    services.customer_update(customer=customer, data={"phone": "+86 10 1234 5678"}, by=staff)
    with pytest.raises(DomainError, match="Someone else changed"):
        services.customer_update(customer=customer, data={"phone": "+86 10 0000 0000"}, by=staff, loaded_at=loaded_at)
    customer.refresh_from_db()
    assert customer.phone == "+86 10 1234 5678"


def test_blocking_needs_a_reason(finance):
    customer = CustomerFactory()
    for reason in ["", "   "]:
        with pytest.raises(DomainError, match="reason"):
            services.customer_block(customer=customer, reason=reason, by=finance)
    customer.refresh_from_db()
    assert not customer.is_blocked and not customer.events.exists()


def test_block_then_unblock_keeps_both_reasons_on_the_timeline(finance):
    customer = CustomerFactory()
    services.customer_block(customer=customer, reason="两张发票逾期 90 天", by=finance)
    customer.refresh_from_db()
    assert customer.is_blocked and customer.blocked_reason == "两张发票逾期 90 天"
    with pytest.raises(DomainError, match="already blocked"):
        services.customer_block(customer=customer, reason="again", by=finance)
    services.customer_unblock(customer=customer, reason="Paid in full on 3 March", by=finance)
    customer.refresh_from_db()
    assert not customer.is_blocked and customer.blocked_reason == ""
    notes = list(customer.events.order_by("at", "pk").values_list("kind", "note"))
    assert notes == [("blocked", "两张发票逾期 90 天"), ("unblocked", "Paid in full on 3 March")]


def test_unblocking_a_customer_that_is_not_blocked_is_refused(finance):
    with pytest.raises(DomainError, match="not blocked"):
        services.customer_unblock(customer=CustomerFactory(), reason="why not", by=finance)


def test_salesperson_cannot_block_a_customer_even_without_the_page(staff):
    customer = CustomerFactory()
    with pytest.raises(PermissionRefused):
        services.customer_block(customer=customer, reason="逾期", by=staff)
    customer.refresh_from_db()
    assert not customer.is_blocked and not customer.events.exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda customer: services.customer_update(customer=customer, data={"credit_limit": Decimal("1")}),
        lambda customer: services.customer_block(customer=customer, reason="逾期"),
        lambda customer: services.address_create(customer=customer, data=ADDRESS),
        lambda customer: services.complaint_create(customer=customer, data={"subject": "s", "description": "d"}),
    ],
)
def test_every_service_needs_to_know_who_acts(call):
    customer = CustomerFactory()
    with pytest.raises(TypeError):
        call(customer)


def test_nobody_is_not_an_actor():
    with pytest.raises(ValueError):
        services.customer_update(customer=CustomerFactory(), data={"credit_limit": Decimal("1")}, by=None)


@pytest.mark.parametrize(
    "role, call",
    [
        ("reviewer", lambda c, by: services.customer_update(customer=c, data={"credit_limit": Decimal("1")}, by=by)),
        ("warehouse", lambda c, by: services.customer_create(data={"name": "x"}, by=by)),
        ("reviewer", lambda c, by: services.address_create(customer=c, data=ADDRESS, by=by)),
        ("reviewer", lambda c, by: services.contact_create(customer=c, data={"name": "x"}, by=by)),
        ("finance", lambda c, by: services.complaint_create(customer=c, data={"subject": "s", "description": "d"}, by=by)),
    ],
)
def test_services_check_the_permission_of_whoever_acts(make_user, role, call):
    customer = CustomerFactory(credit_limit=Decimal("500.00"))
    with pytest.raises(PermissionRefused):
        call(customer, make_user(role))
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("500.00") and not customer.events.exists()


def test_the_system_acts_under_its_name_on_the_timeline():
    customer = services.customer_create(data={"name": "演示客户"}, by=Actor.system("demo"))
    event = customer.events.get()
    assert event.by is None and (event.actor_kind, event.actor_name) == ("system", "demo")
    assert event.actor_label == "demo data"
    with translation.override("zh-hans"):
        assert event.actor_label == str(SYSTEM_NAMES["demo"])


def test_database_refuses_a_block_without_reason():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(is_blocked=True, blocked_reason="")


# --- addresses ------------------------------------------------------------------------------------

ADDRESS = {"recipient": "李娜", "line1": "天河路 385 号", "city": "广州", "country": "CN"}


def test_first_address_of_a_kind_becomes_its_default(staff):
    customer = CustomerFactory()
    shipping = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    billing = services.address_create(customer=customer, data={**ADDRESS, "kind": "billing"}, by=staff)
    second = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    assert shipping.is_default and billing.is_default and not second.is_default


def test_making_an_address_default_moves_the_default_atomically(staff):
    customer = CustomerFactory()
    first = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    second = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    services.address_set_default(address=second, by=staff)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    assert Address.objects.filter(customer=customer, kind="shipping", is_default=True).count() == 1


def test_new_address_marked_default_takes_over(staff):
    customer = CustomerFactory()
    first = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    second = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, make_default=True, by=staff)
    first.refresh_from_db()
    assert second.is_default and not first.is_default


def test_database_allows_only_one_default_per_kind():
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(customer=customer, is_default=True)


def test_removing_the_default_address_promotes_the_next_one(staff):
    customer = CustomerFactory()
    first = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    second = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    services.address_delete(address=first, by=staff)
    second.refresh_from_db()
    assert second.is_default
    assert customer.events.filter(kind=CustomerEvent.Kind.ADDRESS_REMOVED).count() == 1


def test_moving_the_default_to_the_other_kind_keeps_a_default_for_each_kind(staff):
    customer = CustomerFactory()
    ship1 = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    ship2 = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    bill = services.address_create(customer=customer, data={**ADDRESS, "kind": "billing"}, by=staff)
    services.address_update(address=ship1, data={**ADDRESS, "kind": "billing"}, by=staff)
    for address in (ship1, ship2, bill):
        address.refresh_from_db()
    assert ship2.is_default, "the shipping kind lost its default"
    assert bill.is_default and not ship1.is_default


def test_an_address_used_by_an_order_cannot_be_removed(staff):
    customer = CustomerFactory()
    address = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    order = make_order(customer=customer, user=staff)
    type(order).objects.filter(pk=order.pk).update(shipping_address=address)
    with pytest.raises(DomainError, match="used by orders"):
        services.address_delete(address=address, by=staff)
    assert Address.objects.filter(pk=address.pk, is_default=True).exists()


def test_address_edit_records_old_and_new_values(staff):
    customer = CustomerFactory()
    address = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    services.address_update(address=address, data={**ADDRESS, "kind": "shipping", "city": "深圳"}, by=staff)
    event = customer.events.get(kind=CustomerEvent.Kind.ADDRESS_CHANGED)
    assert event.changes == [{"field": "city", "old": "广州", "new": "深圳"}]


# --- contacts -------------------------------------------------------------------------------------


def test_first_contact_is_primary_and_primary_moves(staff):
    customer = CustomerFactory()
    first = services.contact_create(customer=customer, data={"name": "张伟"}, by=staff)
    second = services.contact_create(customer=customer, data={"name": "Emily Chen"}, make_primary=True, by=staff)
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    services.contact_delete(contact=second, by=staff)
    first.refresh_from_db()
    assert first.is_primary
    assert Contact.objects.filter(customer=customer).count() == 1


def test_contact_removed_while_an_order_names_it_leaves_the_order_without_contact(staff):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    order = make_order(customer=customer, user=staff)
    type(order).objects.filter(pk=order.pk).update(contact=contact)
    services.contact_delete(contact=contact, by=staff)
    assert type(order).objects.get(pk=order.pk).contact_id is None


def test_outdated_loaded_at_is_compared_exactly(staff):
    customer = CustomerFactory()
    with pytest.raises(DomainError):
        services.customer_update(
            customer=customer, data={"phone": "123456"}, by=staff, loaded_at=customer.updated_at - timedelta(microseconds=1)
        )


# --- timeline -------------------------------------------------------------------------------------


def test_timeline_rows_keep_data_and_are_worded_in_the_readers_language(staff):
    customer = services.customer_create(data={"name": "宁波港口物流"}, by=staff, params={"via": "order"})
    address = services.address_create(customer=customer, data={**ADDRESS, "kind": "shipping"}, by=staff)
    services.contact_create(customer=customer, data={"name": "Emily Chen"}, by=staff)
    created, added, contact = customer.events.order_by("at", "pk")
    assert (created.params, created.note) == ({"via": "order"}, ""), "no sentence is stored, only what happened"
    assert created.sentence == "Entered with an order."
    assert (added.params, added.note) == ({"address": address.one_line()}, "")
    assert added.sentence == address.one_line()
    assert contact.sentence == "Emily Chen"
    with translation.override("zh-hans"):
        assert created.sentence == "随订单录入。", "the same row reads in Chinese for a Chinese reader"
        assert added.sentence == address.one_line(), "an address is data: the same in every language"


def test_rows_written_before_the_timeline_shape_show_their_old_text_as_the_note():
    customer = CustomerFactory()
    legacy = CustomerEvent.objects.create(customer=customer, kind="created", note="录入，共 3 行明细。")
    assert legacy.sentence == "" and legacy.note == "录入，共 3 行明细。"

"""Drafts belong to their author: a colleague in sales reads them but does not edit, submit or cancel
them; whoever may manage all orders (managers) may."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from config.actors import Actor
from config.errors import DomainError
from orders.entry import services
from orders.models import OrderStatus, SalesOrder
from orders.review.rules import check_credit
from orders.tests.entry_data import entry_post
from orders.tests.factories import draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


def hidden_inputs(response) -> dict:
    """The hidden inputs of a rendered page (a form's one-time token), to post as the browser would."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.content.decode()))


def header_of(order: SalesOrder, **changes) -> services.OrderHeader:
    fields = {"customer": order.customer, "shipping_address": order.shipping_address, "customer_po": "CHANGED"}
    fields.update(changes)
    return services.OrderHeader(**fields)


def lines_of(order: SalesOrder) -> list[services.LineInput]:
    return [
        services.LineInput(product=line.product, quantity=line.quantity, unit_price=line.unit_price) for line in order.lines.all()
    ]


# --- the services -------------------------------------------------------------------------------------


def test_a_colleague_cannot_edit_submit_or_cancel_a_draft_through_the_services(make_user):
    author, colleague = make_user("sales"), make_user("sales")
    order = draft_order(by=author, customer_po="ORIGINAL")
    with pytest.raises(DomainError) as refused:
        services.order_update_draft(
            order=order, version=order.version, header=header_of(order), lines=lines_of(order), by=colleague
        )
    assert refused.value.code == "not_yours"
    with pytest.raises(DomainError) as refused:
        services.order_submit(order=order, by=colleague)
    assert refused.value.code == "not_yours"
    with pytest.raises(DomainError) as refused:
        services.order_cancel(order=order, by=colleague, reason="Not mine to keep")
    assert refused.value.code == "not_yours"
    order = fresh(order)
    assert (order.status, order.customer_po, order.version) == (OrderStatus.DRAFT, "ORIGINAL", 1)
    assert list(order.events.values_list("kind", flat=True)) == ["created"], "nothing of the refused steps is written"


def test_a_colleague_cannot_reopen_a_rejected_order(make_user):
    author, colleague = make_user("sales"), make_user("sales")
    order = draft_order(by=author)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.REJECTED)
    with pytest.raises(DomainError) as refused:
        services.order_reopen(order=fresh(order), by=colleague)
    assert refused.value.code == "not_yours" and fresh(order).status == OrderStatus.REJECTED
    services.order_reopen(order=fresh(order), by=author)
    assert fresh(order).status == OrderStatus.DRAFT


def test_the_author_and_whoever_manages_all_orders_may(make_user):
    author, lead, manager = make_user("sales"), make_user("sales", "manager"), make_user("manager")
    order = draft_order(by=author)
    edited = services.order_update_draft(
        order=order, version=order.version, header=header_of(order), lines=lines_of(order), by=lead
    )
    assert edited.customer_po == "CHANGED"
    services.order_submit(order=edited, by=lead)
    assert fresh(order).status == OrderStatus.SUBMITTED
    other = draft_order(by=author)
    services.order_cancel(order=other, by=manager, reason="Duplicate of another order")
    assert fresh(other).status == OrderStatus.CANCELLED
    own = draft_order(by=author)
    services.order_submit(order=own, by=author)
    assert fresh(own).status == OrderStatus.SUBMITTED


def test_the_system_acts_on_anyones_order(make_user):
    order = draft_order(by=make_user("sales"))
    services.order_cancel(order=order, by=Actor.system("sweeper"), reason="Stuck for a week")
    assert fresh(order).status == OrderStatus.CANCELLED


# --- the pages ----------------------------------------------------------------------------------------


def test_a_colleague_reads_the_draft_but_sees_no_buttons_and_cannot_act_on_it(client_as, make_user):
    author = make_user("sales")
    order = draft_order(by=author, customer_po="ORIGINAL")
    client = client_as("sales")
    page = client.get(order.get_absolute_url())
    assert page.status_code == 200 and order.number in page.content.decode()
    assert not any(page.context["actions"].values())
    for url in (reverse("orders:edit", args=[order.pk]), reverse("orders:submit", args=[order.pk])):
        assert url not in page.content.decode()

    product = order.lines.get().product
    client.post(
        reverse("orders:edit", args=[order.pk]),
        entry_post(
            customer=order.customer,
            address=order.shipping_address,
            version=order.version,
            customer_po="COLLEAGUE",
            lines=[(product, 9, "100.00", "0")],
        ),
    )
    client.post(reverse("orders:submit", args=[order.pk]), hidden_inputs(page))
    client.post(reverse("orders:cancel", args=[order.pk]), {**hidden_inputs(page), "reason": "Not mine"})
    order = fresh(order)
    assert (order.status, order.customer_po, order.version) == (OrderStatus.DRAFT, "ORIGINAL", 1)
    assert list(order.lines.values_list("quantity", flat=True)) == [2]


def test_a_sales_lead_edits_and_submits_a_colleagues_draft_on_the_pages(client_as, make_user):
    order = draft_order(by=make_user("sales"), customer_po="ORIGINAL")
    client = client_as("sales", "manager")
    product = order.lines.get().product
    response = client.post(
        reverse("orders:edit", args=[order.pk]),
        entry_post(
            customer=order.customer,
            address=order.shipping_address,
            version=order.version,
            customer_po="LEAD",
            lines=[(product, 9, "100.00", "0")],
        ),
    )
    assert response.status_code == 302
    page = client.get(order.get_absolute_url())
    assert page.context["actions"]["submit"]
    client.post(reverse("orders:submit", args=[order.pk]), hidden_inputs(page))
    order = fresh(order)
    assert order.customer_po == "LEAD" and order.status != OrderStatus.DRAFT


def test_a_manager_cancels_a_colleagues_order_on_the_page(client_as, make_user):
    order = draft_order(by=make_user("sales"))
    client = client_as("manager")
    page = client.get(reverse("orders:cancel", args=[order.pk]))
    assert page.status_code == 200
    response = client.post(reverse("orders:cancel", args=[order.pk]), {**hidden_inputs(page), "reason": "Duplicate"})
    assert response.status_code == 302 and fresh(order).status == OrderStatus.CANCELLED


# --- a new customer typed on the order form -----------------------------------------------------------


def test_a_customer_entered_with_an_order_gets_the_default_limit_and_a_zero_limit_means_review(make_user, settings):
    settings.DEFAULT_CREDIT_LIMIT = Decimal("0")
    customer = services.order_customer_create(new=services.NewCustomer(name="宁波港口物流"), by=make_user("sales"))
    assert customer.credit_limit == Decimal("0")
    order = draft_order(by=make_user("sales"), customer=customer)
    findings = check_credit(order=order, lines=list(order.lines.all()), rules=None)
    assert [finding.rule for finding in findings] == ["credit"], "a 0 limit sends every order on credit to review"


def test_a_colleague_gets_403_on_the_edit_and_cancel_pages_of_someone_elses_order(client_as, make_user):
    order = draft_order(by=make_user("sales"))
    client = client_as("sales")
    assert client.get(reverse("orders:edit", args=[order.pk])).status_code == 403
    assert client.get(reverse("orders:cancel", args=[order.pk])).status_code == 403

"""A reviewer's decision: approve or reject with a reason, never on an order they entered."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from config.errors import DomainError
from config.roles import MANAGER, REVIEWER, SALES
from orders.models import OrderEvent, OrderStatus
from orders.review.services import SeparationOfDuties, order_approve, order_reject

from .review_factories import make_order, reload, submit_and_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(make_user):
    return make_user(SALES)


@pytest.fixture
def in_review(sales):
    """An order the checks sent to review (no shipping address)."""
    order = submit_and_check(make_order(by=sales, address=False), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    return order


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- services -------------------------------------------------------------------------------------


def test_reviewer_approval_stamps_the_time_and_hands_the_order_to_stock(in_review, make_user):
    from config.outbox import OutboxEvent

    reviewer = make_user(REVIEWER)
    order_approve(order=in_review, by=reviewer, note="Address confirmed by phone")
    order = reload(in_review)
    assert order.status == OrderStatus.APPROVED
    assert order.approved_at is not None
    assert OutboxEvent.objects.filter(topic="orders.salesorder.approve", payload__id=order.pk).exists()
    event = order.events.filter(kind=OrderEvent.Kind.TRANSITION).last()
    assert (event.from_state, event.to_state, event.by, event.note) == (
        OrderStatus.IN_REVIEW,
        OrderStatus.APPROVED,
        reviewer,
        "Address confirmed by phone",
    )


def test_reviewer_cannot_approve_own_order(make_user):
    both = make_user(SALES, REVIEWER)
    order = submit_and_check(make_order(by=both, address=False), by=both)
    with pytest.raises(SeparationOfDuties, match="another reviewer"):
        order_approve(order=order, by=both)
    assert reload(order).status == OrderStatus.IN_REVIEW


def test_reviewer_cannot_reject_own_order(make_user):
    both = make_user(SALES, REVIEWER)
    order = submit_and_check(make_order(by=both, address=False), by=both)
    with pytest.raises(SeparationOfDuties):
        order_reject(order=order, by=both, reason="Looks wrong")
    assert reload(order).status == OrderStatus.IN_REVIEW


def test_rejection_needs_a_reason(in_review, make_user):
    with pytest.raises(DomainError, match="Say why"):
        order_reject(order=in_review, by=make_user(REVIEWER), reason="   ")
    assert reload(in_review).status == OrderStatus.IN_REVIEW


def test_rejection_goes_back_to_sales_with_the_reason_on_the_timeline(in_review, make_user):
    reviewer = make_user(REVIEWER)
    order_reject(order=in_review, by=reviewer, reason="  No delivery address: ask the customer  ")
    order = reload(in_review)
    assert order.status == OrderStatus.REJECTED
    assert order.approved_at is None
    event = order.events.filter(kind=OrderEvent.Kind.TRANSITION).last()
    assert (event.to_state, event.by, event.note) == (OrderStatus.REJECTED, reviewer, "No delivery address: ask the customer")


def test_an_order_can_be_decided_only_once(in_review, make_user):
    order_approve(order=in_review, by=make_user(REVIEWER))
    with pytest.raises(DomainError, match="cannot"):
        order_reject(order=in_review, by=make_user(REVIEWER), reason="Too late")
    assert reload(in_review).status == OrderStatus.APPROVED


def test_a_user_without_review_rights_cannot_approve(in_review, make_user):
    with pytest.raises(DomainError, match="not allowed"):
        order_approve(order=in_review, by=make_user(SALES))
    assert reload(in_review).status == OrderStatus.IN_REVIEW


# --- through the pages ----------------------------------------------------------------------------


def test_reviewer_approves_from_the_queue_and_returns_to_it(in_review, client_as):
    client = client_as(REVIEWER)
    queue = reverse("orders:review_queue")
    response = client.post(reverse("orders:approve", args=[in_review.pk]), {"next": queue})
    assert response.status_code == 302 and response.url == queue
    assert reload(in_review).status == OrderStatus.APPROVED
    assert f"Order {in_review.number} is approved." in messages_of(response)


def test_reviewer_rejects_with_a_reason_through_the_page(in_review, client_as):
    client = client_as(REVIEWER)
    response = client.post(reverse("orders:reject", args=[in_review.pk]), {"reason": "Price too low for this customer"})
    assert response.status_code == 302
    order = reload(in_review)
    assert order.status == OrderStatus.REJECTED
    assert order.events.last().note == "Price too low for this customer"


def test_reject_without_a_reason_is_refused_with_a_message(in_review, client_as):
    client = client_as(REVIEWER)
    response = client.post(reverse("orders:reject", args=[in_review.pk]), {"reason": "  "})
    assert response.status_code == 302
    assert reload(in_review).status == OrderStatus.IN_REVIEW
    assert any("Say why the order is rejected" in m for m in messages_of(response))


def test_reviewer_who_entered_the_order_gets_a_clear_message_from_the_page(client_as):
    client = client_as(SALES, REVIEWER)
    order = submit_and_check(make_order(by=client.user, address=False), by=client.user)
    response = client.post(reverse("orders:approve", args=[order.pk]))
    assert response.status_code == 302
    assert reload(order).status == OrderStatus.IN_REVIEW
    assert messages_of(response) == [f"You entered order {order.number} yourself, so another reviewer must decide it."]


def test_deciding_an_order_that_is_no_longer_in_review_shows_why(in_review, client_as, make_user):
    order_approve(order=in_review, by=make_user(REVIEWER))
    response = client_as(REVIEWER).post(reverse("orders:reject", args=[in_review.pk]), {"reason": "Changed my mind"})
    assert response.status_code == 302
    assert reload(in_review).status == OrderStatus.APPROVED
    assert any("cannot" in m for m in messages_of(response))


def test_the_way_back_must_stay_on_this_site(in_review, client_as):
    response = client_as(REVIEWER).post(reverse("orders:approve", args=[in_review.pk]), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_approve_and_reject_are_post_only(in_review, client_as):
    client = client_as(REVIEWER)
    assert client.get(reverse("orders:approve", args=[in_review.pk])).status_code == 405
    assert client.get(reverse("orders:reject", args=[in_review.pk])).status_code == 405
    assert reload(in_review).status == OrderStatus.IN_REVIEW


def test_deciding_an_unknown_order_is_a_404(client_as):
    assert client_as(REVIEWER).post(reverse("orders:approve", args=[999999])).status_code == 404


def test_manager_may_review_too(in_review, client_as):
    client_as(MANAGER).post(reverse("orders:approve", args=[in_review.pk]))
    assert reload(in_review).status == OrderStatus.APPROVED


# --- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders:approve", "orders:reject"])
def test_sales_gets_403_on_decisions(in_review, client_as, name):
    response = client_as(SALES).post(reverse(name, args=[in_review.pk]), {"reason": "mine"})
    assert response.status_code == 403
    assert reload(in_review).status == OrderStatus.IN_REVIEW


def test_sales_gets_403_on_the_review_queue(client_as):
    assert client_as(SALES).get(reverse("orders:review_queue")).status_code == 403


@pytest.mark.parametrize("role", [SALES, REVIEWER])
def test_only_managers_open_the_review_settings(client_as, role):
    client = client_as(role)
    assert client.get(reverse("orders:review_settings")).status_code == 403
    assert client.post(reverse("orders:review_settings"), {"amount_threshold": "1"}).status_code == 403

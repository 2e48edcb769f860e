"""Who hears about a review: the reviewers, the salesperson, the customer (in their language)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from smtplib import SMTPException

import pytest
from django.core import mail
from django.urls import reverse

from config.models import Notification
from config.roles import REVIEWER, SALES, WAREHOUSE
from orders.models import OrderEvent, OrderStatus
from orders.review.notifications import email_order_confirmation
from orders.review.services import order_approve, order_reject

from .review_factories import CustomerFactory, ProductFactory, make_order, reload, submit_and_check

pytestmark = pytest.mark.django_db

# Approval hands the order to stock, which may allocate it straight away after commit.
APPROVED_OR_LATER = {OrderStatus.APPROVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED}


@pytest.fixture
def sales(make_user):
    return make_user(SALES, email="li.na@trading.example", first_name="Na", last_name="Li")


@pytest.fixture
def reviewers(make_user):
    return [
        make_user(REVIEWER, email="wang.wei@trading.example"),
        make_user(REVIEWER, email="zhao.min@trading.example"),
        make_user(REVIEWER, email=""),  # no address: in-app only
    ]


@pytest.fixture
def review_case(sales, reviewers, django_capture_on_commit_callbacks):
    """An order flagged for review (no shipping address), with the after-commit emails sent."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_and_check(make_order(by=sales, address=False), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    return order


# --- reviewers are told the queue has work ---------------------------------------------------------


def test_every_reviewer_is_notified_in_the_app_when_an_order_lands_in_review(review_case, reviewers, sales, make_user):
    notified = Notification.objects.filter(params__number=review_case.number)
    assert sorted(n.recipient_id for n in notified) == sorted(r.pk for r in reviewers)
    assert all(n.url == reverse("orders:review_queue") for n in notified)
    assert not Notification.objects.filter(recipient=sales).exists()


def test_reviewer_group_is_emailed_when_an_order_lands_in_review(review_case):
    assert sorted(m.to[0] for m in mail.outbox) == ["wang.wei@trading.example", "zhao.min@trading.example"]
    message = mail.outbox[0]
    assert review_case.number in message.subject
    assert "shipping address" in message.body  # the finding that sent it there
    assert reverse("orders:review_queue") in message.body


def test_no_reviewer_email_once_the_order_is_decided(review_case, reviewers):
    from orders.review.notifications import email_review_request

    order_approve(order=review_case, by=reviewers[0])
    mail.outbox.clear()
    email_review_request(order_id=review_case.pk)
    assert mail.outbox == []


def test_an_automatically_approved_order_calls_no_reviewer(sales, reviewers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_and_check(make_order(by=sales, customer=CustomerFactory(email="")), by=sales)
    assert order.status in APPROVED_OR_LATER
    assert mail.outbox == []
    # Nobody is notified of an order that needs nobody: it moves on to stock by itself.
    assert not Notification.objects.exists()


def test_rolled_back_review_sends_nothing(sales, reviewers, django_capture_on_commit_callbacks, monkeypatch):
    from orders.review import notifications

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "notify_reviewers_order_in_review", broken)
    order = make_order(by=sales, address=False)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        submit_and_check(order, by=sales)
    assert reload(order).status == OrderStatus.SUBMITTED  # the whole review rolled back: the task may run again
    assert not order.findings.exists()
    assert mail.outbox == []
    assert not Notification.objects.exists()


# --- the salesperson hears the decision -------------------------------------------------------------


def test_salesperson_is_notified_and_emailed_of_an_approval(review_case, reviewers, sales, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_approve(order=review_case, by=reviewers[0], note="Address confirmed")
    [notification] = Notification.objects.filter(recipient=sales)
    assert review_case.number in notification.message and "approved" in notification.message
    assert notification.url == review_case.get_absolute_url()
    to_sales = [m for m in mail.outbox if m.to == [sales.email]]
    assert len(to_sales) == 1
    assert "approved" in to_sales[0].subject
    assert "Address confirmed" in to_sales[0].body


def test_salesperson_is_told_why_an_order_was_rejected(review_case, reviewers, sales, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_reject(order=review_case, by=reviewers[1], reason="Customer wants delivery to a new site; add the address")
    [notification] = Notification.objects.filter(recipient=sales)
    assert "rejected" in notification.message and "add the address" in notification.message
    [message] = mail.outbox
    assert message.to == [sales.email]
    assert "rejected" in message.subject
    assert "Customer wants delivery to a new site; add the address" in message.body
    assert "Reopen the order" in message.body


def test_salesperson_without_email_is_notified_in_the_app_only(make_user, reviewers, django_capture_on_commit_callbacks):
    quiet = make_user(SALES, email="")
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_and_check(make_order(by=quiet, address=False), by=quiet)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_reject(order=order, by=reviewers[0], reason="Missing address")
    assert Notification.objects.filter(recipient=quiet).count() == 1
    assert mail.outbox == []


def test_a_reviewer_without_rights_does_not_trigger_notifications(review_case, make_user, sales):
    from config.errors import DomainError

    with pytest.raises(DomainError):
        order_approve(order=review_case, by=make_user(WAREHOUSE))
    assert not Notification.objects.filter(recipient=sales).exists()


# --- the customer's confirmation ----------------------------------------------------------------------


def approve_for(customer, *, sales, reviewer, capture, requested=datetime.date(2026, 5, 20)):
    product = ProductFactory(name="Stainless bolt M8", list_price=Decimal("12.50"))
    order = make_order(
        by=sales,
        customer=customer,
        address=True,
        requested_date=requested,
        customer_po="PO-7781",
        lines=[
            (product, 40, Decimal("12.50"), Decimal("0")),
            (ProductFactory(list_price=Decimal("80.00")), 1, Decimal("60.00"), Decimal("0")),
        ],
    )
    with capture(execute=True):
        order = submit_and_check(order, by=sales)
    assert order.status == OrderStatus.IN_REVIEW  # the 25 % discount on line 2 goes to review
    mail.outbox.clear()
    with capture(execute=True):
        order_approve(order=order, by=reviewer)
    return reload(order)


def confirmations(customer):
    return [m for m in mail.outbox if m.to == [customer.email]]


def test_customer_confirmation_in_chinese_for_a_chinese_customer(sales, reviewers, django_capture_on_commit_callbacks):
    customer = CustomerFactory(language="zh-hans", email="caigou@huanan.example", name="华南五金")
    order = approve_for(customer, sales=sales, reviewer=reviewers[0], capture=django_capture_on_commit_callbacks)
    [message] = confirmations(customer)
    assert message.subject == f"订单确认 {order.number}"
    assert "华南五金" in message.body
    assert "感谢您的订购" in message.body
    assert "合计" in message.body
    for figure in (order.number, "PO-7781", "2026-05-20", "Stainless bolt M8", "500.00", str(order.total)):
        assert figure in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'lang="zh-hans"' in html and "感谢您的订购" in html and str(order.total) in html


def test_customer_confirmation_in_english_for_an_english_customer(sales, reviewers, django_capture_on_commit_callbacks):
    customer = CustomerFactory(language="en", email="buyer@acme.example", name="ACME Trading")
    order = approve_for(customer, sales=sales, reviewer=reviewers[0], capture=django_capture_on_commit_callbacks)
    [message] = confirmations(customer)
    assert message.subject == f"Order confirmation {order.number}"
    assert "Dear ACME Trading," in message.body
    assert "Requested delivery date: 2026-05-20" in message.body
    assert f"Total: {order.total} {order.currency}" in message.body
    assert "感谢" not in message.body


def test_confirmation_is_recorded_on_the_timeline_and_sent_once(sales, reviewers, django_capture_on_commit_callbacks):
    customer = CustomerFactory(language="en", email="buyer@acme.example")
    order = approve_for(customer, sales=sales, reviewer=reviewers[0], capture=django_capture_on_commit_callbacks)
    [event] = order.events.filter(kind=OrderEvent.Kind.EMAIL)
    assert "buyer@acme.example" in event.sentence
    email_order_confirmation(order_id=order.pk)  # the outbox handler runs a second time
    assert len(confirmations(customer)) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_no_confirmation_when_the_customer_has_no_email(sales, reviewers, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="")
    order = approve_for(customer, sales=sales, reviewer=reviewers[0], capture=django_capture_on_commit_callbacks)
    assert order.status in APPROVED_OR_LATER
    assert [m for m in mail.outbox if m.to != [sales.email]] == []
    assert not order.events.filter(kind=OrderEvent.Kind.EMAIL).exists()


def test_automatic_approval_confirms_to_the_customer_too(sales, django_capture_on_commit_callbacks):
    customer = CustomerFactory(language="en", email="buyer@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    assert order.status in APPROVED_OR_LATER
    assert len(confirmations(customer)) == 1


def test_no_confirmation_for_a_rejected_order(review_case, reviewers, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_reject(order=review_case, by=reviewers[0], reason="No")
    assert confirmations(review_case.customer) == []


def test_mail_server_failure_does_not_undo_the_approval(review_case, reviewers, monkeypatch, django_capture_on_commit_callbacks):
    def refuse(backend, messages):
        raise SMTPException("421 service not available")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        order_approve(order=review_case, by=reviewers[0])
    order = reload(review_case)
    assert order.status in APPROVED_OR_LATER and order.approved_at is not None
    assert not order.events.filter(kind=OrderEvent.Kind.EMAIL).exists()  # not sent, so not recorded


def test_the_confirmation_row_on_the_order_page_says_what_was_sent_not_a_state_change(
    sales, reviewers, client, django_capture_on_commit_callbacks
):
    """Bug: every confirmation row read "Email sent : [empty] → Approved"."""
    customer = CustomerFactory(language="en", email="buyer@acme.example")
    order = approve_for(customer, sales=sales, reviewer=reviewers[0], capture=django_capture_on_commit_callbacks)
    client.force_login(sales)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    row = page[page.index('class="event event-email"') :]
    row = row[: row.index("</li>")]
    assert "Order confirmation sent to buyer@acme.example." in row
    assert "→" not in row

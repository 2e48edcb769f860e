"""The snapshot follows the customer's events: orders booked or cancelled, complaints opened, returns accepted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction

from config.actors import Actor
from config.outbox import OutboxEvent
from config.transitions import transition_apply
from customers import services as customer_services
from inventory.tests.factories import ProductFactory, approved_order
from logistics.returns.models import ReturnRequest
from reports.customers import handlers
from reports.customers.models import CustomerMonth, CustomerSnapshot, Segment
from reports.dirty import order_changed

from .factories import CustomerFactory, order_on

pytestmark = pytest.mark.django_db


def test_every_topic_the_handlers_expect_is_registered_in_settings():
    registered = {topic for topic, paths in settings.OUTBOX_HANDLERS.items() if any("reports.customers" in p for p in paths)}
    assert registered == {*handlers.COMPLAINT_TOPICS, *handlers.RETURN_TOPICS}
    # The order transitions mark the customer through the one handler of every batched area.
    marked = {f"orders.salesorder.{t}" for t in settings.REPORTS_BATCHED_AREAS["customers"]["order_transitions"]}
    assert marked == set(handlers.ORDER_TOPICS)
    assert all("reports.dirty.order_changed" in settings.OUTBOX_HANDLERS[topic] for topic in marked)


def test_an_approved_order_and_its_cancellation_reach_the_snapshot(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    product = ProductFactory(list_price=Decimal("50.00"), tax_rate=Decimal("0.13"))
    with django_capture_on_commit_callbacks(execute=True):
        order = approved_order(lines=[(product, 4)], customer=customer)

    row = CustomerSnapshot.objects.get(customer=customer)
    assert (row.orders_count, row.gross_total, row.orders_12m) == (1, Decimal("226.00"), 1)
    assert row.segment != Segment.NO_ORDERS
    assert CustomerMonth.objects.get(customer=customer).orders == 1

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        transition_apply(obj=order, transition="cancel", actor=Actor.system("automatic_checks"))

    row = CustomerSnapshot.objects.get(customer=customer)
    assert (row.orders_count, row.open_orders, row.segment) == (0, 0, Segment.NO_ORDERS)
    assert not CustomerMonth.objects.filter(customer=customer).exists()


def test_an_opened_complaint_is_counted_at_once(make_user, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    staff = make_user("sales")
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.complaint_create(customer=customer, data={"subject": "漏水", "description": "三只漏水"}, by=staff)
    row = CustomerSnapshot.objects.get(customer=customer)
    assert (row.complaints_count, row.open_complaints) == (1, 1)


def test_an_accepted_return_is_counted_and_the_handler_is_idempotent(make_user):
    customer = CustomerFactory()
    order = order_on(customer=customer, user=make_user("sales"), days_ago=3)
    accepted = ReturnRequest.objects.create(number="RMA-T-1", order=order, state="approved", reason="defective")
    handlers.refresh_for_return({"id": accepted.pk})
    handlers.refresh_for_return({"id": accepted.pk})
    assert CustomerSnapshot.objects.get(customer=customer).returns_count == 1


def test_an_event_of_something_deleted_since_changes_nothing():
    order_changed({"id": 987654}, event=OutboxEvent(topic="orders.salesorder.submit"))
    handlers.refresh_for_complaint({"id": 987654})
    handlers.refresh_for_return({"id": 987654})
    assert not CustomerSnapshot.objects.exists()


def test_the_nightly_task_rebuilds_every_customer_and_is_scheduled(make_user):
    from reports.customers.tasks import rebuild_customer_snapshot

    customers = [CustomerFactory() for _ in range(3)]
    order_on(customer=customers[0], user=make_user("sales"), days_ago=2)
    assert rebuild_customer_snapshot.apply(throw=True).result == 3
    assert rebuild_customer_snapshot.apply(throw=True).result == 3  # twice: the same rows
    assert CustomerSnapshot.objects.get(customer=customers[0]).orders_count == 1
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert rebuild_customer_snapshot.name in scheduled

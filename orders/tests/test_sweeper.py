"""The sweeper, the safety net behind the outbox: an order left in `submitted` or `approved` past
STUCK_ORDER_MINUTES is checked or allocated; a fresh one is the dispatcher's; twice does nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.outbox import OutboxEvent
from inventory.models import Reservation, ReservationState, StockLevel
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders import tasks
from orders.entry.services import order_submit
from orders.models import OrderEvent, OrderStatus, ReviewFinding, SalesOrder
from orders.tasks import orders_stuck, sweep_stuck_orders
from orders.tests.factories import customer_with_address, draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def long_ago():
    return timezone.now() - timedelta(minutes=settings.STUCK_ORDER_MINUTES + 1)


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


def lose_the_outbox() -> None:
    """The events that would have moved the orders on are gone (the situation the sweeper exists for)."""
    OutboxEvent.objects.all().delete()


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SH", priority=1)


def submitted_order(*, by, product, submitted_at=None) -> SalesOrder:
    """A draft that passes every check, submitted through the service; optionally submitted long ago."""
    customer, address = customer_with_address()
    order = order_submit(order=draft_order(by=by, customer=customer, address=address, products=[product]), by=by)
    if submitted_at is not None:
        SalesOrder.objects.filter(pk=order.pk).update(submitted_at=submitted_at)
    return fresh(order)


def test_an_order_stuck_in_submitted_past_the_limit_is_checked_by_the_sweeper(make_user, warehouse):
    sales = make_user("sales")
    order = submitted_order(by=sales, product=stocked_product(stock={warehouse: 5}), submitted_at=long_ago())
    lose_the_outbox()

    assert sweep_stuck_orders() == {"submitted": 1, "approved": 0}

    order = fresh(order)
    assert order.status == OrderStatus.APPROVED
    checks = order.events.get(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.APPROVED)
    assert (checks.from_state, checks.actor_kind, checks.actor_name) == (OrderStatus.SUBMITTED, "system", "automatic_checks")
    # What follows the approval (allocation, the confirmation) is published, not lost a second time.
    assert OutboxEvent.objects.filter(topic="orders.salesorder.pass_checks", payload__id=order.pk).exists()


def test_an_order_stuck_in_submitted_that_a_check_flags_goes_to_review(make_user, warehouse):
    sales = make_user("sales")
    order = submitted_order(by=sales, product=stocked_product(stock={warehouse: 5}), submitted_at=long_ago())
    SalesOrder.objects.filter(pk=order.pk).update(total=10**9)  # over the amount threshold
    lose_the_outbox()

    sweep_stuck_orders()

    assert fresh(order).status == OrderStatus.IN_REVIEW


def test_an_approved_order_older_than_the_limit_is_allocated_by_the_sweeper(warehouse):
    product = stocked_product(stock={warehouse: 10})
    order = approved_order(lines=[(product, 4)], approved_at=long_ago())
    lose_the_outbox()

    assert sweep_stuck_orders() == {"submitted": 0, "approved": 1}

    order = fresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 4
    moved = order.events.get(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.ALLOCATED)
    assert (moved.actor_kind, moved.actor_name) == ("system", "sweeper")


def test_an_approved_order_with_no_stock_is_backordered_by_the_sweeper(warehouse):
    product = stocked_product(stock={warehouse: 1})
    order = approved_order(lines=[(product, 4)], approved_at=long_ago())
    lose_the_outbox()

    sweep_stuck_orders()

    assert fresh(order).status == OrderStatus.BACKORDERED
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 1


def test_orders_that_just_arrived_are_left_to_the_dispatcher(make_user, warehouse):
    sales = make_user("sales")
    product = stocked_product(stock={warehouse: 10})
    submitted = submitted_order(by=sales, product=product)
    approved = approved_order(lines=[(product, 2)])

    assert orders_stuck() == {"submitted": [], "approved": []}
    assert sweep_stuck_orders() == {"submitted": 0, "approved": 0}

    assert fresh(submitted).status == OrderStatus.SUBMITTED
    assert fresh(approved).status == OrderStatus.APPROVED
    assert not ReviewFinding.objects.exists()
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 0
    # Their outbox events are still waiting for the dispatcher.
    assert OutboxEvent.objects.filter(topic="orders.salesorder.submit", payload__id=submitted.pk, dispatched_at=None).exists()


def test_orders_in_other_states_are_not_the_sweepers_business(make_user, warehouse):
    sales = make_user("sales")
    customer, address = customer_with_address()
    draft = draft_order(by=sales, customer=customer, address=address)
    SalesOrder.objects.filter(pk=draft.pk).update(created_at=long_ago(), submitted_at=long_ago())

    assert sweep_stuck_orders() == {"submitted": 0, "approved": 0}
    assert fresh(draft).status == OrderStatus.DRAFT


def test_running_the_sweeper_twice_does_nothing_twice(make_user, warehouse):
    sales = make_user("sales")
    product = stocked_product(stock={warehouse: 10})
    submitted = submitted_order(by=sales, product=product, submitted_at=long_ago())
    approved = approved_order(lines=[(product, 3)], approved_at=long_ago())
    lose_the_outbox()

    sweep_stuck_orders()
    events = OrderEvent.objects.count()
    findings = ReviewFinding.objects.count()
    reservations = Reservation.objects.filter(state=ReservationState.ACTIVE).count()

    assert sweep_stuck_orders() == {"submitted": 0, "approved": 0}

    assert fresh(submitted).status == OrderStatus.APPROVED
    assert fresh(approved).status == OrderStatus.ALLOCATED
    assert OrderEvent.objects.count() == events
    assert ReviewFinding.objects.count() == findings
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == reservations == 1
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 3


def test_a_sweep_acting_on_a_stale_list_leaves_orders_someone_else_moved_alone(make_user, warehouse, monkeypatch):
    """The sweeper's list may be stale by the time it acts: the services re-read the state under a lock."""
    sales = make_user("sales")
    product = stocked_product(stock={warehouse: 10})
    submitted = submitted_order(by=sales, product=product, submitted_at=long_ago())
    approved = approved_order(lines=[(product, 2)], approved_at=long_ago())
    stale = orders_stuck()
    assert stale == {"submitted": [submitted.pk], "approved": [approved.pk]}
    # Meanwhile the dispatcher checked the first and a clerk cancelled the second.
    SalesOrder.objects.filter(pk=submitted.pk).update(status=OrderStatus.IN_REVIEW)
    SalesOrder.objects.filter(pk=approved.pk).update(status=OrderStatus.CANCELLED)
    events = OrderEvent.objects.count()
    monkeypatch.setattr(tasks, "orders_stuck", lambda minutes=None: stale)

    tasks.sweep_stuck_orders()

    assert fresh(submitted).status == OrderStatus.IN_REVIEW
    assert fresh(approved).status == OrderStatus.CANCELLED
    assert OrderEvent.objects.count() == events
    assert not ReviewFinding.objects.exists()
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 0

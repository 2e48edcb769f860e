"""The dispatcher and the sweeper run twice at once (a redelivered task, two beats, a task beside
the sweeper) on real concurrent connections: every order is checked and allocated exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config import outbox
from config.outbox import OutboxEvent, outbox_dispatch
from inventory.models import Reservation, ReservationState, StockLevel
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.entry.services import order_submit
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.tasks import sweep_stuck_orders
from orders.tests.factories import customer_with_address, draft_order
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 4


def test_two_dispatchers_and_two_sweepers_at_once_check_and_allocate_each_order_once(make_user, monkeypatch):
    monkeypatch.setattr(outbox, "_kick", lambda: None)  # no fast path: the events wait for the runs below
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 100})
    sales = make_user("sales")
    submitted = []
    for _ in range(ORDERS):
        customer, address = customer_with_address()
        draft = draft_order(by=sales, customer=customer, address=address, products=[product], quantity=2)
        submitted.append(order_submit(order=draft, by=sales))
    long_ago = timezone.now() - timedelta(minutes=settings.STUCK_ORDER_MINUTES + 1)
    SalesOrder.objects.filter(pk__in=[o.pk for o in submitted]).update(submitted_at=long_ago)
    approved = [approved_order(lines=[(product, 3)], approved_at=long_ago) for _ in range(ORDERS)]

    errors = run_together([outbox_dispatch, outbox_dispatch, sweep_stuck_orders, sweep_stuck_orders])
    assert errors == []
    errors = run_together([outbox_dispatch, outbox_dispatch])  # what the checks published: allocation
    assert errors == []

    for order in submitted + approved:
        order = SalesOrder.objects.get(pk=order.pk)
        assert order.status == OrderStatus.ALLOCATED, order.number
        moves = order.events.filter(kind=OrderEvent.Kind.TRANSITION)
        assert moves.filter(from_state=OrderStatus.SUBMITTED, to_state=OrderStatus.APPROVED).count() == 1
        assert moves.filter(to_state=OrderStatus.ALLOCATED).count() == 1
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == 2 * ORDERS
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == ORDERS * 2 + ORDERS * 3
    assert not OutboxEvent.objects.filter(dispatched_at=None, failed_at=None, topic__startswith="orders.").exists()

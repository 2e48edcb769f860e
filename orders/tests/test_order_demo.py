"""The demo orders: entered through the services, spread over the states, and seeded only once."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from config.demo import seed_users
from orders import demo
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def test_demo_orders_cover_the_states_and_are_seeded_once(django_capture_on_commit_callbacks):
    users = seed_users()
    for i in range(12):
        AddressFactory(customer=CustomerFactory(credit_limit=Decimal("50000.00") if i % 3 else Decimal("0.00")), is_default=True)
    ProductFactory.create_batch(15, list_price=Decimal("88.00"))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed(users=users, stdout=out)
    orders = SalesOrder.objects.filter(customer_po__startswith=demo.DEMO_PO_PREFIX)
    assert orders.count() == demo.DEMO_ORDER_COUNT
    states = set(orders.values_list("status", flat=True))
    assert {OrderStatus.DRAFT, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.IN_REVIEW} <= states
    assert states & {OrderStatus.APPROVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED}  # approved, maybe allocated since
    assert set(orders.values_list("created_by__username", flat=True)) == {"sales", "sales2"}
    assert OrderEvent.objects.filter(order__in=orders, by__username="reviewer").exists()
    for order in orders.filter(status=OrderStatus.REJECTED):
        assert order.events.filter(to_state=OrderStatus.REJECTED).exclude(note="").exists()
    # Totals are real: the stored total equals the sum of the lines.
    sample = orders.first()
    assert sample.total == sum(line.line_total for line in sample.lines.all())

    demo.seed(users=users, stdout=out)
    assert SalesOrder.objects.count() == demo.DEMO_ORDER_COUNT
    assert "Demo orders exist already." in out.getvalue()


def test_demo_orders_wait_for_customers_and_products():
    out = io.StringIO()
    demo.seed(users=seed_users(), stdout=out)
    assert SalesOrder.objects.count() == 0
    assert "skipped" in out.getvalue()

"""Entering and submitting an order costs the same number of SQL statements for 1, 10 or 100 lines."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import OrderStatus, SalesOrder
from orders.tests.entry_data import entry_post
from orders.tests.factories import ProductFactory, customer_with_address
from tests.queries import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.mark.parametrize("action", ["submit", "save"])
def test_create_and_submit_queries_do_not_grow_with_lines(client_as, django_capture_on_commit_callbacks, action):
    client = client_as("sales")
    customer, address = customer_with_address()
    counts = {}
    for size in (1, 10, 100):
        products = ProductFactory.create_batch(size)
        data = entry_post(
            customer=customer,
            address=address,
            action=action,
            lines=[(product, 2, product.list_price, "5") for product in products],
        )
        # The automatic checks run after commit in a task of their own; here we count the entry itself.
        with django_capture_on_commit_callbacks(execute=False), count_queries() as queries:
            response = client.post(reverse("orders:create"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        order = SalesOrder.objects.latest("pk")
        assert order.line_count == size
        assert order.status == (OrderStatus.SUBMITTED if action == "submit" else OrderStatus.DRAFT)
        counts[size] = len(queries.captured_queries)
    assert len(set(counts.values())) == 1, f"queries grow with lines: {counts}"


def test_editing_a_draft_queries_do_not_grow_with_lines(client_as):
    client = client_as("sales")
    customer, address = customer_with_address()
    counts = {}
    for size in (1, 10, 100):
        products = ProductFactory.create_batch(size)
        lines = [(product, 1, product.list_price, "0") for product in products]
        client.post(reverse("orders:create"), entry_post(customer=customer, address=address, lines=lines))
        order = SalesOrder.objects.latest("pk")
        data = entry_post(
            customer=customer,
            address=address,
            version=order.version,
            lines=[(product, 3, product.list_price, "0") for product in products],
        )
        with count_queries() as queries:
            response = client.post(reverse("orders:edit", args=[order.pk]), data)
        assert response.status_code == 302
        counts[size] = len(queries.captured_queries)
    assert len(set(counts.values())) == 1, f"queries grow with lines: {counts}"


def test_the_live_recompute_costs_the_same_for_1_and_100_lines(client_as):
    from orders.entry.forms import line_data

    client = client_as("sales")
    counts = {}
    for size in (1, 100):
        products = ProductFactory.create_batch(size)
        rows = [{"product": str(p.pk), "quantity": "1", "unit_price": "", "discount_percent": ""} for p in products]
        with count_queries() as queries:
            response = client.post(reverse("orders:entry_lines"), {**line_data(rows), "op": "recalc"})
        assert response.status_code == 200
        counts[size] = len(queries.captured_queries)
    assert counts[1] == counts[100], counts

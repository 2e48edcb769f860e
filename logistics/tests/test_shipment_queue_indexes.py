"""The warehouse home's shipment queues and the pick queue read their partial indexes (PostgreSQL's EXPLAIN), not every shipment.

As in the order list's index tests, sequential scans are switched off on a small table: the plan then shows
whether an index serves the queue in its order at all — what hundreds of thousands of delivered shipments need."""

from __future__ import annotations

import pytest
from django.db import connection

from inventory.tests.factories import WarehouseFactory
from logistics.models import Shipment, ShipmentState
from orders.tests.factories import customer_with_address, draft_order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's"),
]


@pytest.fixture
def shipments(make_user):
    """Three thousand shipments of one order (by SQL): most delivered, some on the way, a few packed."""
    customer, address = customer_with_address()
    order = draft_order(by=make_user("sales"), customer=customer, address=address)
    warehouse = WarehouseFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO logistics_shipment (number, state, service, eta, insured_value, cod_amount, line_count, unit_count,
                created_at, packed_at, shipped_at, delivered_at, order_id, warehouse_id)
            SELECT 'SH-T-' || g, CASE WHEN g %% 10 = 0 THEN 'shipped' WHEN g %% 50 = 1 THEN 'packed' ELSE 'delivered' END,
                   '', now()::date + g %% 7, 0, 0, 1, 1, now() - g * interval '1 hour', now() - g * interval '1 hour',
                   now() - g * interval '1 hour', now(), %s, %s
            FROM generate_series(1, 3000) AS g
            """,
            [order.pk, warehouse.pk],
        )
        cursor.execute("ANALYZE logistics_shipment")
        cursor.execute("SET LOCAL enable_seqscan = off")


@pytest.mark.parametrize(
    ("state", "ordering", "index"),
    [
        (ShipmentState.SHIPPED, ("eta", "shipped_at", "pk"), "shipment_on_the_way"),
        (ShipmentState.PACKED, ("packed_at", "pk"), "shipment_packed_queue"),
    ],
    ids=["shipped, not delivered", "packed, not shipped"],
)
def test_each_warehouse_shipment_queue_is_read_in_order_from_its_index(shipments, state, ordering, index):
    queue = Shipment.objects.filter(state=state).select_related("order").order_by(*ordering)[:5]
    explained = queue.explain()
    assert index in explained, explained
    assert "->  Sort" not in explained, explained


@pytest.fixture
def pickable_orders(make_user):
    """Three thousand allocated orders (copies of one, by SQL), among as many shipped ones."""
    customer, address = customer_with_address()
    order = draft_order(by=make_user("sales"), customer=customer, address=address)
    WarehouseFactory(code="BJ")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_salesorder (number, status, customer_id, shipping_address_id, channel, customer_po, notes,
                currency, subtotal, tax_total, total, line_count, created_by_id, created_at, updated_at, approved_at, version)
            SELECT 'X-' || g, CASE WHEN g %% 2 = 0 THEN 'allocated' ELSE 'shipped' END, customer_id, shipping_address_id,
                   channel, '', '', currency, g, 0, g, 1, created_by_id, created_at, updated_at,
                   now() - g * interval '1 minute', 1
            FROM orders_salesorder, generate_series(1, 6000) AS g WHERE id = %s
            """,
            [order.pk],
        )
        cursor.execute("ANALYZE orders_salesorder")
        cursor.execute("SET LOCAL enable_seqscan = off")


@pytest.mark.parametrize("direction", ["first", "after", "before"])
def test_the_pick_queue_reads_the_pickable_orders_in_queue_order_from_their_index(pickable_orders, direction):
    """A page sums the orders in the queue's order until it is full: they come from order_pick_queue in that order,
    never all of them summed and sorted first."""
    from logistics.shipments.selectors import queue_statement
    from orders.models import SalesOrder

    position = {}
    if direction != "first":
        middle = SalesOrder.objects.filter(status="allocated").order_by("approved_at")[1500]
        position = {direction: middle.pk}
    sql, params, _backward = queue_statement(size=50, **position)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        explained = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_pick_queue" in explained, explained
    assert "->  Sort" not in explained and "Seq Scan on orders_salesorder" not in explained, explained

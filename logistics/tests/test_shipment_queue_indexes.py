"""The warehouse home's shipment queues read their partial indexes (PostgreSQL's EXPLAIN), not every shipment.

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

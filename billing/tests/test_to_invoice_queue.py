"""Finance's queue of orders to invoice: the orders with units shipped, kept and not invoiced, read from the few
lines still to invoice (a partial index) rather than from every delivered order's lines."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import F

from billing.selectors import orders_to_invoice
from billing.tests.factories import issued_invoice, shipped_order
from orders.invoicing import INVOICEABLE_STATUSES

pytestmark = pytest.mark.django_db


def test_the_queue_holds_the_orders_with_units_kept_and_not_invoiced_oldest_approval_first():
    waiting = shipped_order(products=2)
    invoiced = shipped_order()
    issued_invoice(order=invoiced)
    returned = shipped_order(quantity=2)
    returned.lines.update(quantity_returned=F("quantity_shipped"))  # nothing kept: nothing to invoice
    part = shipped_order(products=2, quantity=4)
    first = part.lines.order_by("pk").first()
    type(first).objects.filter(pk=first.pk).update(quantity_invoiced=4)  # one line invoiced, the other still waiting
    shipping = shipped_order(status="shipped")

    assert list(orders_to_invoice()) == [waiting, part]  # delivered only, in order of approval
    assert list(orders_to_invoice(statuses=INVOICEABLE_STATUSES)) == [waiting, part, shipping]
    last = part.lines.order_by("pk").last()
    type(last).objects.filter(pk=last.pk).update(quantity_invoiced=F("quantity_shipped") - 1)
    assert part in orders_to_invoice()  # a single unit left to invoice keeps it in the queue


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_queue_can_be_read_from_the_index_of_lines_still_to_invoice():
    shipped_order()
    queryset = orders_to_invoice(statuses=INVOICEABLE_STATUSES)
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The filter implies the index's condition (written alike), so the planner may read the lines from it.
    assert "order_line_to_invoice" in plan, plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_statistic_ext WHERE stxname = 'orders_line_to_invoice'")
        assert cursor.fetchone() == (1,)  # the planner knows how few lines wait (migration orders 0015)

"""Real concurrent connections to PostgreSQL: two clerks returning the same shipped line at the same
moment never promise back more than shipped, and receiving keeps the ledger whole."""

from __future__ import annotations

import pytest
from django.db import connection

from config.errors import DomainError
from inventory.models import StockLevel
from inventory.stock.services import stock_verify_ledger
from inventory.tests.factories import WarehouseFactory
from logistics.returns.models import ReturnLine, ReturnRequest
from logistics.returns.services import LineOutcome, return_open, return_receive
from logistics.tests.factories import stocked_product
from logistics.tests.returns_factories import approved_return, shipped_order
from orders.models import SalesOrder, SalesOrderLine
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]


def test_two_clerks_returning_the_same_line_at_once_promise_back_only_what_shipped(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    clerks = [make_user("warehouse"), make_user("warehouse")]
    order = shipped_order(lines=[(product, 4)], warehouse=warehouse, clerk=clerks[0])
    line = order.lines.get()

    def return_as(user):
        def job():
            return_open(order=SalesOrder.objects.get(pk=order.pk), quantities={line.pk: 3}, reason="defective", by=user)

        return job

    errors = run_together([return_as(user) for user in clerks])

    assert len(errors) == 1 and isinstance(errors[0], DomainError) and errors[0].code == "over_return", errors
    assert list(ReturnLine.objects.values_list("quantity", flat=True)) == [3]


def test_two_returns_received_at_once_restock_both_and_the_ledger_holds(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    clerks = [make_user("warehouse"), make_user("warehouse")]
    order = shipped_order(lines=[(product, 6)], warehouse=warehouse, clerk=clerks[0])
    line = order.lines.get()
    returns = [approved_return(order=order, quantities={line.pk: qty}, by=clerks[0]) for qty in (2, 3)]

    def receive_as(user, return_request):
        def job():
            fresh = ReturnRequest.objects.get(pk=return_request.pk)
            return_receive(return_request=fresh, outcomes={fresh.lines.get().pk: LineOutcome("restock", warehouse.pk)}, by=user)

        return job

    errors = run_together([receive_as(user, r) for user, r in zip(clerks, returns, strict=True)])

    assert errors == []
    assert SalesOrderLine.objects.get(pk=line.pk).quantity_returned == 5
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (9, 0)
    assert stock_verify_ledger().ok

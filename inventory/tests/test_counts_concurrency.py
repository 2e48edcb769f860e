"""Counts and transfers under real concurrent connections: one posting per count, one shipment per
transfer, and no deadlock when a count and transfers lock the same stock rows at once."""

from __future__ import annotations

import pytest
from django.db import connection

from config.errors import DomainError
from inventory.counts.services import stock_count_post, stock_count_record
from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, draft_transfer, open_count, stock_put
from inventory.transfers.services import transfer_ship
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]


def test_two_clerks_posting_the_same_count_post_it_once(make_user):
    clerks = [make_user("warehouse"), make_user("warehouse")]
    warehouse = WarehouseFactory()
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerks[0])
    stock_count_record(count=count, quantities={count.lines.get().pk: 7}, by=clerks[0])

    errors = run_together([lambda clerk=clerk: stock_count_post(count=count, by=clerk) for clerk in clerks])

    assert len(errors) == 1 and isinstance(errors[0], DomainError), errors
    assert StockMovement.objects.filter(document=count.number).count() == 1
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 7


def test_two_clerks_shipping_the_same_transfer_ship_it_once(make_user):
    clerks = [make_user("warehouse"), make_user("warehouse")]
    source, destination = WarehouseFactory(), WarehouseFactory()
    product = ProductFactory()
    stock_put(product=product, warehouse=source, quantity=10)
    transfer = draft_transfer(source=source, destination=destination, by=clerks[0], lines=[(product, 6)])

    errors = run_together([lambda clerk=clerk: transfer_ship(transfer=transfer, by=clerk) for clerk in clerks])

    assert len(errors) == 1 and isinstance(errors[0], DomainError), errors
    assert StockLevel.objects.get(product=product, warehouse=source).on_hand == 4


def test_a_count_and_transfers_on_the_same_rows_in_opposite_orders_do_not_deadlock(make_user):
    clerk = make_user("warehouse")
    source, destination = WarehouseFactory(), WarehouseFactory()
    products = [ProductFactory() for _ in range(6)]
    for product in products:
        stock_put(product=product, warehouse=source, quantity=50)
    count = open_count(warehouse=source, by=clerk)
    stock_count_record(count=count, quantities={line.pk: 49 for line in count.lines.all()}, by=clerk)
    forwards = draft_transfer(source=source, destination=destination, by=clerk, lines=[(p, 1) for p in products])
    backwards = draft_transfer(source=source, destination=destination, by=clerk, lines=[(p, 1) for p in reversed(products)])

    errors = run_together(
        [
            lambda: stock_count_post(count=count, by=clerk),
            lambda: transfer_ship(transfer=forwards, by=clerk),
            lambda: transfer_ship(transfer=backwards, by=clerk),
        ]
    )

    assert errors == []
    # every shelf: 50, counted 49 (−1), two transfers of 1 each; the ledger agrees with on hand
    for product in products:
        level = StockLevel.objects.get(product=product, warehouse=source)
        assert level.on_hand == 47
        assert sum(StockMovement.objects.filter(product=product, warehouse=source).values_list("quantity", flat=True)) == 47

"""The counts and transfers demo: a count in progress and a transfer in transit, seeded once."""

from __future__ import annotations

import io

import pytest

from inventory.count_models import StockCount, StockCountState
from inventory.counts_demo import seed
from inventory.tests.factories import ProductFactory, WarehouseFactory, stock_put
from inventory.transfer_models import StockTransfer, TransferState

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_count_in_progress_and_a_transfer_in_transit_once(make_user):
    clerk = make_user("warehouse")
    main, second = WarehouseFactory(code="MAIN", priority=1), WarehouseFactory(code="EAST", priority=2)
    for i in range(6):
        stock_put(product=ProductFactory(sku=f"DEMO-{i}"), warehouse=main, quantity=20)
    out = io.StringIO()

    seed(users={"warehouse": clerk}, stdout=out)
    seed(users={"warehouse": clerk}, stdout=out)

    count = StockCount.objects.get()
    assert count.state == StockCountState.COUNTING and count.warehouse == main
    assert 0 < count.lines.filter(counted_quantity__isnull=False).count() < count.line_count
    transfer = StockTransfer.objects.get()
    assert (transfer.state, transfer.source, transfer.destination) == (TransferState.SHIPPED, main, second)
    assert transfer.lines.count() == 3
    assert "in transit" in out.getvalue()


def test_demo_without_warehouses_seeds_nothing_and_does_not_fail(make_user):
    seed(users={"warehouse": make_user("warehouse")}, stdout=io.StringIO())
    assert not StockCount.objects.exists() and not StockTransfer.objects.exists()

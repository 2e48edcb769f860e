"""Fixtures the sales snapshot tests share: a warehouse, its clerk, a salesperson and a second product."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.tests.factories import WarehouseFactory, stocked_product


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SH", name="上海仓", priority=1)


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


@pytest.fixture
def seller(make_user):
    return make_user("sales")


@pytest.fixture
def cups(warehouse):
    return stocked_product(stock={warehouse: 100}, sku="CUP-350", list_price=Decimal("69.00"), cost=Decimal("31.00"))

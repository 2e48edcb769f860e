from __future__ import annotations

import pytest

from inventory.tests.factories import WarehouseFactory


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SH", name="上海仓", priority=1)


@pytest.fixture
def clerk(make_user):
    """A warehouse user: picks, packs and ships."""
    return make_user("warehouse")

"""Stock services act for someone: a person needs the role's permission, whatever page or task calls them."""

from __future__ import annotations

import pytest
from django.utils import translation

from config.errors import PermissionRefused
from inventory.models import StockLevel, StockMovement
from inventory.stock.services import stock_adjust, stock_level_set_planning, stock_receive, stock_reverse_movement
from inventory.tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SH")


@pytest.fixture
def product():
    return ProductFactory()


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance"])
def test_only_warehouse_roles_may_receive_or_adjust_stock_through_the_services(make_user, warehouse, product, role):
    someone = make_user(role)
    with pytest.raises(PermissionRefused):
        stock_receive(warehouse=warehouse, quantities={product: 5}, by=someone)
    with pytest.raises(PermissionRefused):
        stock_adjust(product=product, warehouse=warehouse, quantity=5, reason="found", by=someone)
    with pytest.raises(PermissionRefused):
        stock_level_set_planning(
            product=product, warehouse=warehouse, safety_stock=1, reorder_point=2, reorder_quantity=3, by=someone
        )
    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.filter(safety_stock__gt=0).exists()


def test_a_reversal_needs_the_adjust_permission(make_user, warehouse, product):
    received = stock_receive(warehouse=warehouse, quantities={product: 5}, by=make_user("warehouse"))[0]
    with pytest.raises(PermissionRefused):
        stock_reverse_movement(movement=received, reason="wrong product", by=make_user("sales"))
    assert StockMovement.objects.count() == 1


def test_a_receipt_reason_is_stored_as_source_text_and_worded_for_each_reader(make_user, warehouse, product):
    clerk = make_user("warehouse")
    [with_note] = stock_receive(warehouse=warehouse, quantities={product: 2}, reference="DN-42", by=clerk)
    [without] = stock_receive(warehouse=warehouse, quantities={product: 3}, by=clerk)
    assert (with_note.reason, with_note.params) == ("Delivery note %(ref)s", {"ref": "DN-42"})
    assert without.params == {"document": without.document}
    with translation.override("zh-hans"):
        assert "DN-42" in with_note.reason_text and "Delivery note" not in with_note.reason_text
    with translation.override("en"):
        assert with_note.reason_text == "Delivery note DN-42"
        assert without.reason_text == f"Goods receipt {without.document}"

"""The stock ledger is append-only in the database, and the nightly check proves on hand = Σ movements
and reserved = Σ active reservations (or says loudly where it does not)."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.db.models import F

from config.actors import Actor  # noqa: E402
from inventory import tasks
from inventory.models import LedgerCheck, MovementKind, StockLevel, StockMovement
from inventory.stock.services import stock_post_movement
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.fulfilment.services import order_allocate

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db


@pytest.fixture
def movement():
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 7})
    return StockMovement.objects.get(product=product)


def test_database_refuses_to_update_a_movement_through_raw_sql(movement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockmovement SET quantity = 700 WHERE id = %s", [movement.pk])
    movement.refresh_from_db()
    assert movement.quantity == 7


def test_database_refuses_to_delete_a_movement_through_raw_sql(movement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_stockmovement WHERE id = %s", [movement.pk])
    assert StockMovement.objects.filter(pk=movement.pk).exists()


def test_database_refuses_orm_updates_and_deletes_of_movements(movement):
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).update(quantity=F("quantity") + 1)
    movement.reason = "rewriting history"
    with pytest.raises(DatabaseError), transaction.atomic():
        movement.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        movement.delete()
    stored = StockMovement.objects.get(pk=movement.pk)
    assert (stored.quantity, stored.reason) == (7, "test stock")


def test_database_refuses_negative_or_over_reserved_stock_rows(movement):
    level = StockLevel.objects.get(product=movement.product, warehouse=movement.warehouse)
    for change in ({"on_hand": -1}, {"reserved": -1}, {"reserved": 8}):
        with pytest.raises(DatabaseError), transaction.atomic():
            StockLevel.objects.filter(pk=level.pk).update(**change)


def test_nightly_check_records_a_consistent_ledger(movement):
    order = approved_order(lines=[(movement.product, 3)])
    order_allocate(by=SYSTEM, order=order)
    stock_post_movement(
        product=movement.product, warehouse=movement.warehouse, kind=MovementKind.ADJUSTMENT, quantity=-2, reason="damaged"
    )

    tasks.verify_stock_ledger.delay()

    check = LedgerCheck.objects.get()
    assert check.ok and check.problems == [] and check.levels_checked == 1
    assert mail.outbox == []


def test_nightly_check_raises_the_alarm_when_a_stock_row_was_changed_behind_the_ledger(
    movement, make_user, caplog, django_capture_on_commit_callbacks
):
    make_user("manager", email="boss@example.com")
    make_user("warehouse", email="store@example.com")
    make_user("sales", email="seller@example.com")
    StockLevel.objects.filter(product=movement.product).update(on_hand=9)  # allowed: only movements are protected

    with caplog.at_level(logging.ERROR, logger="inventory.stock.services"), django_capture_on_commit_callbacks(execute=True):
        tasks.verify_stock_ledger.delay()

    check = LedgerCheck.objects.get()
    assert not check.ok
    assert check.problems == [
        {"sku": movement.product.sku, "warehouse": "SH", "on_hand": 9, "movements": 7, "reserved": 0, "active_reservations": 0}
    ]
    assert "Stock ledger check" in caplog.text and movement.product.sku in caplog.text
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["boss@example.com", "store@example.com"]
    assert movement.product.sku in mail.outbox[0].body and "movements 7" in mail.outbox[0].body


def test_nightly_check_notices_reserved_stock_without_reservations(movement):
    StockLevel.objects.filter(product=movement.product).update(reserved=2)
    tasks.verify_stock_ledger.delay()
    check = LedgerCheck.objects.get()
    assert not check.ok
    assert check.problems[0]["reserved"] == 2 and check.problems[0]["active_reservations"] == 0


def test_nightly_check_notices_movements_of_a_missing_stock_row(movement):
    StockLevel.objects.filter(product=movement.product).delete()
    tasks.verify_stock_ledger.delay()
    check = LedgerCheck.objects.get()
    assert not check.ok
    assert check.problems == [{"sku": movement.product.sku, "warehouse": "SH", "on_hand": None, "movements": 7}]


def test_managers_see_the_last_ledger_check_on_the_stock_overview(movement, client_as):
    from django.urls import reverse

    StockLevel.objects.filter(product=movement.product).update(on_hand=9)
    tasks.verify_stock_ledger.delay()
    manager_page = client_as("manager").get(reverse("inventory:stock_overview"))
    assert manager_page.context["ledger_check"] == LedgerCheck.objects.get()
    assert "The last ledger check found problems" in manager_page.content.decode()
    sales_page = client_as("sales").get(reverse("inventory:stock_overview"))
    assert "ledger_check" not in sales_page.context
    assert "ledger check" not in sales_page.content.decode().lower()

"""Low-stock alerts: raised after commit when free stock falls below safety stock, one open alert per
product and warehouse, resolved when stock recovers, emailed to the warehouse once, on the home page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from config.actors import Actor  # noqa: E402
from inventory import tasks
from inventory.models import LowStockAlert, MovementKind, StockLevel
from inventory.stock.alerts import low_stock_refresh
from inventory.stock.services import stock_adjust, stock_post_movement, stock_receive
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.fulfilment.services import order_allocate
from tests.queries import assert_constant_queries

# Stock moved by the system in these tests (the services check a person's permission).
STOCK_CLERK = Actor.system("system")

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db


@pytest.fixture
def sh():
    return WarehouseFactory(code="SH", priority=1)


def open_alerts(product=None):
    alerts = LowStockAlert.objects.filter(resolved_at__isnull=True)
    return alerts.filter(product=product) if product else alerts


def test_a_movement_that_takes_free_stock_below_safety_stock_raises_an_alert_after_commit(
    sh, make_user, django_capture_on_commit_callbacks
):
    make_user("warehouse", email="store@example.com")
    product = stocked_product(stock={sh: 12}, safety_stock=10)
    assert not open_alerts().exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stock_adjust(product=product, warehouse=sh, quantity=-5, reason="damaged", by=STOCK_CLERK)
    assert not open_alerts().exists()  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):  # the commit: the check queues the email
        for callback in callbacks:
            callback()

    alert = open_alerts(product).get()
    assert (alert.warehouse, alert.available, alert.safety_stock) == (sh, 7, 10)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["store@example.com"]
    assert product.sku in mail.outbox[0].body and "7 available" in mail.outbox[0].body
    assert LowStockAlert.objects.get().notified_at is not None


def test_reservations_count_against_free_stock(sh, django_capture_on_commit_callbacks):
    product = stocked_product(stock={sh: 20}, safety_stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 18)]))
    assert open_alerts(product).get().available == 2


def test_further_drops_do_not_open_a_second_alert_or_email_again(sh, make_user, django_capture_on_commit_callbacks):
    make_user("warehouse", email="store@example.com")
    product = stocked_product(stock={sh: 10}, safety_stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product=product, warehouse=sh, quantity=-1, reason="x", by=STOCK_CLERK)
        stock_adjust(product=product, warehouse=sh, quantity=-1, reason="x", by=STOCK_CLERK)
    tasks.scan_low_stock.delay()
    low_stock_refresh()
    assert open_alerts(product).count() == 1
    assert len(mail.outbox) == 1


def test_the_database_refuses_a_second_open_alert(sh):
    product = stocked_product(stock={sh: 1}, safety_stock=3)
    LowStockAlert.objects.create(product=product, warehouse=sh, available=1, safety_stock=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        LowStockAlert.objects.create(product=product, warehouse=sh, available=1, safety_stock=3)


def test_an_alert_resolves_itself_when_stock_recovers_and_a_new_one_may_open_later(sh, django_capture_on_commit_callbacks):
    product = stocked_product(stock={sh: 2}, safety_stock=5)
    low_stock_refresh()
    first = open_alerts(product).get()

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(warehouse=sh, quantities={product: 10}, by=STOCK_CLERK)
    first.refresh_from_db()
    assert first.resolved_at is not None and not open_alerts(product).exists()

    with django_capture_on_commit_callbacks(execute=True):
        stock_post_movement(product=product, warehouse=sh, kind=MovementKind.SHIPMENT, quantity=-9)
    assert open_alerts(product).get().pk != first.pk
    assert LowStockAlert.objects.filter(product=product).count() == 2


def test_periodic_scan_raises_and_resolves_alerts(sh):
    low = stocked_product(stock={sh: 1}, safety_stock=4)
    fine = stocked_product(stock={sh: 50}, safety_stock=4)
    no_safety_stock = stocked_product(stock={})
    StockLevel.objects.get_or_create(product=no_safety_stock, warehouse=sh)
    stale = LowStockAlert.objects.create(product=fine, warehouse=sh, available=0, safety_stock=4)

    tasks.scan_low_stock.delay()

    assert set(open_alerts().values_list("product", flat=True)) == {low.pk}
    stale.refresh_from_db()
    assert stale.resolved_at is not None


def test_inactive_warehouses_raise_no_alerts(sh):
    product = stocked_product(stock={sh: 1}, safety_stock=4)
    sh.is_active = False
    sh.save()
    low_stock_refresh()
    assert not open_alerts(product).exists()


def test_alert_list_shows_open_alerts_by_default_and_filters(client_as, sh):
    low = stocked_product(stock={sh: 1}, safety_stock=4, name="低库存商品")
    recovered = stocked_product(stock={sh: 1}, safety_stock=4)
    low_stock_refresh()
    StockLevel.objects.filter(product=recovered).update(safety_stock=0)
    low_stock_refresh()
    client = client_as("manager")
    url = reverse("inventory:alert_list")

    assert [a.product for a in client.get(url).context["page_obj"]] == [low]
    assert [a.product for a in client.get(url, {"state": "resolved"}).context["page_obj"]] == [recovered]
    assert len(client.get(url, {"state": ""}).context["page_obj"]) == 2
    assert [a.product for a in client.get(url, {"q": "低库存"}).context["page_obj"]] == [low]
    assert client.get(url, {"state": "bogus", "warehouse": "x"}).status_code == 200


def test_alert_list_query_count_does_not_grow_with_alerts(client_as, sh):
    client = client_as("warehouse")

    def make(n):
        for _ in range(n):
            stocked_product(stock={sh: 1}, safety_stock=5)
        low_stock_refresh()

    assert_constant_queries(make, lambda: client.get(reverse("inventory:alert_list")))


def test_warehouse_home_shows_open_alerts(client_as, sh):
    product = stocked_product(stock={sh: 1}, safety_stock=5)
    low_stock_refresh()
    response = client_as("warehouse").get(reverse("home"))
    queue = next(q for q in response.context["queues"] if q.url == reverse("inventory:alert_list"))
    assert queue.count == 1 and queue.role == "warehouse"
    assert f"{product.sku} in SH: 1 available, safety stock 5" in response.content.decode()


def test_home_queue_is_only_for_warehouse_staff(client_as):
    for role in ("sales", "manager"):
        queues = client_as(role).get(reverse("home")).context["queues"]
        assert reverse("inventory:alert_list") not in [q.url for q in queues]

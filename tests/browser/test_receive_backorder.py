"""A warehouse clerk scans the goods that arrived for a backordered product on the receipt page; the
waiting order is allocated and says so on its page and on the allocation page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.actors import Actor  # noqa: E402
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, approved_order
from orders.fulfilment.services import order_allocate
from orders.models import OrderStatus, SalesOrder
from orders.tests.factories import ean13

SYSTEM = Actor.system("allocation")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scanned_receipt_allocates_the_waiting_order(page, login, make_user):
    sh = WarehouseFactory(code="SH", name="上海主仓", priority=1)
    WarehouseFactory(code="BJ", name="北京仓", priority=2)
    kettle = ProductFactory(sku="KTL-17", name="电热水壶 1.7L", barcode=ean13("690123400017"))
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(kettle, 3)]))
    assert order.status == OrderStatus.BACKORDERED
    clerk = make_user("warehouse", username="clerk")

    login(clerk.username, "pw")
    page.goto(reverse("orders:allocation"))
    assert page.locator(f"tr[data-order='{order.number}']").count() == 1

    page.goto(reverse("inventory:receipt"))
    page.select_option("select[name=warehouse]", str(sh.pk))
    page.fill("input[name=reference]", "SUP-DN-0042")
    scanner = page.locator("[data-scan-input]")
    for _ in range(3):
        scanner.fill(kettle.barcode)
        scanner.press("Enter")
        page.wait_for_timeout(50)
    page.wait_for_function("() => document.querySelector('textarea[name=lines]').value.trim() === 'KTL-17 3'")
    assert "KTL-17 电热水壶 1.7L: 3" in page.locator("[data-scan-feedback]").inner_text()

    scanner.fill("0000000000000")  # an unknown code is reported, nothing is added
    scanner.press("Enter")
    page.wait_for_selector("[data-scan-feedback].error")
    assert page.locator("textarea[name=lines]").input_value().strip() == "KTL-17 3"

    page.click("button:has-text('Post receipt')")
    page.wait_for_selector("text=Receipt GR-")

    level = StockLevel.objects.get(product=kettle, warehouse=sh)
    assert (level.on_hand, level.reserved) == (3, 3)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED

    page.goto(reverse("orders:detail", args=[order.pk]))
    stock = page.locator("#order-stock")
    assert "SH: 3" in stock.inner_text()
    assert page.locator(".status-allocated").count() >= 1

    page.goto(reverse("orders:allocation"))
    assert page.locator(f"tr[data-order='{order.number}']").count() == 0
    assert "Every approved order is allocated." in page.content()

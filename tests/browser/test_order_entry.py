"""A clerk enters an order in the browser: picks the customer, scans barcodes, gives a discount, saves, submits."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import OrderStatus, SalesOrder
from orders.tests.factories import ProductFactory, customer_with_address, ean13

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_scans_two_barcodes_gives_a_discount_saves_and_submits(page, login, make_user):
    make_user("sales", username="li.na", first_name="Li", last_name="Na")
    customer, address = customer_with_address(name="Pearl River Hardware", code="PRH001")
    bolts = ProductFactory(sku="BOLT-M8", name="Hex bolt M8", barcode=ean13("690000000001"), list_price=Decimal("2.50"))
    drill = ProductFactory(sku="DRILL-500", name="Drill 500 W", barcode=ean13("690000000002"), list_price=Decimal("399.00"))

    problems = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and "Failed to load resource" not in message.text and problems.append(message.text)
        ),
    )
    # A missing favicon is the browser's business; any other failed request is ours.
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and not response.url.endswith("/favicon.ico")
            and problems.append(f"{response.status} {response.url}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    login("li.na", "pw")
    page.goto("/orders/new/")

    page.fill("#customer-query", "Pearl")
    page.get_by_role("button", name=re.compile("Pearl River Hardware")).click()
    expect(page.locator("#customer-block .customer-name")).to_have_text("Pearl River Hardware")
    expect(page.locator("#id_shipping_address")).to_have_value(str(address.pk))

    # A scanner types the code and presses Enter, three times in a row without waiting.
    scan = page.locator("#scan-code")
    scan.click()
    for code in (bolts.barcode, drill.barcode, bolts.barcode):
        scan.press_sequentially(code, delay=5)
        scan.press("Enter")
    bolt_row = page.locator('tr[data-sku="BOLT-M8"]')
    drill_row = page.locator('tr[data-sku="DRILL-500"]')
    expect(bolt_row.locator("input.qty")).to_have_value("2")
    expect(drill_row.locator("input.qty")).to_have_value("1")
    expect(page.locator("tr.order-line")).to_have_count(2)
    assert page.evaluate("document.activeElement.id") == "scan-code"  # the scanner can keep scanning
    expect(scan).to_have_value("")

    # A 5 % discount on the drill: 399.00 × 95 % = 379.05 net; the totals follow.
    drill_row.locator("input.discount").fill("5")
    drill_row.locator("input.discount").press("Tab")
    expect(page.locator('tr[data-sku="DRILL-500"] .line-net')).to_have_text("379.05")
    # 5.00 + 379.05 = 384.05 net; tax 0.65 + 49.28 = 49.93; total 433.98
    expect(page.locator("#order-total")).to_have_text("433.98")

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = SalesOrder.objects.get()
    expect(page.locator("#order-status")).to_have_attribute("data-status", OrderStatus.DRAFT)
    assert list(order.lines.order_by("position").values_list("product__sku", "quantity", "discount_percent")) == [
        ("BOLT-M8", 2, Decimal("0.00")),
        ("DRILL-500", 1, Decimal("5.00")),
    ]
    assert order.total == Decimal("433.98")
    expect(page.locator("#order-total")).to_contain_text("433.98")

    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("was submitted")
    # The automatic checks decide at once (eager tasks): submitted, in review, or approved and on to stock.
    decided = SalesOrder.objects.get(pk=order.pk).status
    assert decided != OrderStatus.DRAFT
    expect(page.locator("#order-status")).to_have_attribute("data-status", decided)
    assert order.events.filter(from_state=OrderStatus.DRAFT, to_state=OrderStatus.SUBMITTED).exists()
    assert not problems, problems  # no script error, no CSP violation on the way

"""A clerk tabs or clicks into a line's discount and types 10: the line gets 10 %, not 100 % or 510 %."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.tests.factories import ProductFactory, customer_with_address, ean13

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_a_discount_replaces_what_the_field_held(page, login, make_user):
    make_user("sales", username="li.na")
    customer_with_address(name="Pearl River Hardware", code="PRH001")
    drill = ProductFactory(sku="DRILL-500", name="Drill 500 W", barcode=ean13("690000000002"), list_price=Decimal("400.00"))
    login("li.na", "pw")
    page.goto("/orders/new/")
    scan = page.locator("#scan-code")
    scan.fill(drill.barcode)
    scan.press("Enter")
    discount = page.locator('tr[data-sku="DRILL-500"] input.discount')
    expect(discount).to_have_value("")
    expect(discount).to_have_attribute("placeholder", "0")

    # Clicked into and typed over: 10 %.
    discount.click()
    page.keyboard.type("10")
    expect(discount).to_have_value("10")
    discount.press("Tab")
    expect(page.locator('tr[data-sku="DRILL-500"] .line-net')).to_have_text("360.00")

    # Back into a field that holds 10, by click and by keyboard: typing 5 gives 5, not 105.
    discount = page.locator('tr[data-sku="DRILL-500"] input.discount')
    expect(discount).to_have_value("10")
    discount.click()
    page.keyboard.type("5")
    expect(discount).to_have_value("5")
    discount.press("Tab")
    expect(page.locator('tr[data-sku="DRILL-500"] .line-net')).to_have_text("380.00")
    page.locator('tr[data-sku="DRILL-500"] input.qty').focus()
    page.keyboard.press("Tab")  # price
    page.keyboard.press("Tab")  # discount
    assert page.evaluate("document.activeElement.classList.contains('discount')")
    page.keyboard.type("15")
    expect(page.locator('tr[data-sku="DRILL-500"] input.discount')).to_have_value("15")
    page.keyboard.press("Tab")
    expect(page.locator('tr[data-sku="DRILL-500"] .line-net')).to_have_text("340.00")

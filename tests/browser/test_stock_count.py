"""A warehouse clerk counts stock in the browser: opens a count, types and scans quantities, posts,
and finds the adjustment in the product's movement history."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from inventory.counts.models import StockCount, StockCountState
from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, stock_put

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_counts_a_difference_posts_it_and_sees_it_in_the_movement_history(page, login, make_user):
    make_user("warehouse", username="cangku")
    warehouse = WarehouseFactory(code="NB", name="宁波仓")
    teapots = ProductFactory(sku="POT-1", name="紫砂茶壶", barcode="6901234567892")
    cups = ProductFactory(sku="POT-2", name="白瓷茶杯", barcode="CUP-128-A")
    stock_put(product=teapots, warehouse=warehouse, quantity=10)
    stock_put(product=cups, warehouse=warehouse, quantity=1)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation before posting
    console_errors, missing = [], []

    def on_console(message):
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):  # the layout has no favicon yet
            console_errors.append(f"{message.text} {where}")

    page.on("console", on_console)
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)

    login("cangku", "pw")
    page.goto(reverse("inventory:count_list"))
    page.click("text=Open a count")
    page.select_option("select[name=warehouse]", str(warehouse.pk))
    page.fill("input[name=sku_prefix]", "POT-")
    page.click("button:has-text('Open the count')")
    page.wait_for_selector("text=is open with 2 lines")
    count = StockCount.objects.get()
    teapot_line, cup_line = count.lines.get(product=teapots), count.lines.get(product=cups)

    # Scanning: each scan adds one; the field is emptied and keeps the focus for the next scan.
    scan = page.locator("#scan-code")
    for expected in (1, 2):
        scan.fill("CUP-128-A")
        scan.press("Enter")
        page.wait_for_selector(f"#scan-result >> text=白瓷茶杯: counted {expected}")
        assert scan.input_value() == ""
        assert page.evaluate("document.activeElement.id") == "scan-code"
    assert page.locator(f"#id_counted-{cup_line.pk}").input_value() == "2"

    # Typing: the teapot shelf holds 7 where the system says 10.
    page.fill(f"#id_counted-{teapot_line.pk}", "7")
    page.click("button:has-text('Save progress')")
    page.wait_for_selector("text=Counted quantities saved.")
    assert page.locator(f"#line-{teapot_line.pk}").inner_text().count("-3") == 1

    page.click("text=Review differences and post")
    page.wait_for_selector("h1:has-text('Differences of count')")
    assert "-180.00" in page.locator("main").inner_text()  # 3 teapots at cost 60.00
    page.click("button:has-text('Post adjustments')")
    page.wait_for_selector(f"text=Count {count.number} is posted.")

    count.refresh_from_db()
    assert count.state == StockCountState.POSTED
    assert StockLevel.objects.get(product=teapots, warehouse=warehouse).on_hand == 7
    assert StockLevel.objects.get(product=cups, warehouse=warehouse).on_hand == 2
    assert sorted(StockMovement.objects.filter(document=count.number).values_list("quantity", flat=True)) == [-3, 1]

    page.goto(reverse("inventory:product_stock", args=[teapots.pk]))
    row = page.locator("tr", has_text=count.number)
    assert row.count() == 1
    text = row.inner_text()
    assert "Adjustment" in text and "-3" in text and re.search(r"counted 7, system 10", text)
    assert missing == [] and console_errors == []  # no CSP violation, no htmx error, no missing file

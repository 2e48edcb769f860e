"""The review's acceptance flow in the browser: sales scans an order that exceeds the customer's
credit, submits it; a reviewer approves it from the queue; sales sees the approval; the customer
gets the confirmation email."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from config.roles import REVIEWER, SALES
from orders.models import OrderEvent, OrderStatus, ReviewFinding, ReviewRule, SalesOrder
from orders.tests.review_factories import AddressFactory, CustomerFactory, ProductFactory, put_in_stock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOLT_BARCODE = "6901234567892"
NUT_BARCODE = "6901234567908"


def log_out(page) -> None:
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")


def test_order_over_the_credit_limit_is_reviewed_approved_and_confirmed(page, login, make_user):
    sales = make_user(SALES, username="li.na", email="li.na@trading.example")
    make_user(REVIEWER, username="wang.wei", email="wang.wei@trading.example")
    customer = CustomerFactory(name="华南五金", email="caigou@huanan.example", language="zh-hans", credit_limit=Decimal("500.00"))
    AddressFactory(customer=customer, is_default=True)
    bolt = ProductFactory(sku="BOLT-M8", name="Stainless bolt M8", barcode=BOLT_BARCODE, list_price=Decimal("12.50"))
    nut = ProductFactory(sku="NUT-M8", name="Stainless nut M8", barcode=NUT_BARCODE, list_price=Decimal("3.20"))
    put_in_stock(bolt, 500)
    put_in_stock(nut, 500)

    # Sales enters the order: customer, two scans, a discount typed on the first line.
    login("li.na", "pw")
    page.goto("/orders/new/")
    page.fill("#customer-query", "华南")
    page.click("#customer-results button.pick")
    expect(page.locator("#customer-block .customer-name")).to_have_text("华南五金")
    for barcode in (BOLT_BARCODE, NUT_BARCODE):
        page.fill("#scan-code", barcode)
        page.press("#scan-code", "Enter")
        expect(page.locator(".scan-feedback")).to_contain_text("Added")
    expect(page.locator("#order-lines tr.order-line")).to_have_count(2)
    bolt_line = "#order-lines tr.order-line[data-sku='BOLT-M8']"
    # Leaving a changed field recomputes the lines on the server (one request per change).
    for field, value, net in (("quantity", "40", "500.00"), ("discount_percent", "5", "475.00")):
        with page.expect_response("**/orders/entry/lines/"):
            page.fill(f"{bolt_line} input[name$='-{field}']", value)
            page.press(f"{bolt_line} input[name$='-{field}']", "Tab")
        expect(page.locator(f"{bolt_line} .line-net")).to_have_text(net)
    page.click("button[name=action][value=submit]")

    # The checks ran after commit: over the credit limit, so it waits for a reviewer.
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = SalesOrder.objects.get(customer=customer)
    expect(page.locator("#order-status")).to_have_attribute("data-status", OrderStatus.IN_REVIEW)
    assert list(order.findings.values_list("rule", "severity")) == [(ReviewRule.CREDIT, ReviewFinding.Severity.FLAG)]
    expect(page.locator("#findings")).to_contain_text("over the credit limit of 500.00")
    assert page.locator(f"form[action='/orders/{order.pk}/approve/']").count() == 0  # sales cannot decide
    assert any(m.to == ["wang.wei@trading.example"] and order.number in m.subject for m in mail.outbox)
    log_out(page)

    # The reviewer works the queue and approves.
    login("wang.wei", "pw")
    page.goto("/orders/review/")
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("Credit limit")
    expect(row).to_contain_text(order.number)
    row.locator("button[name=approve]").click()
    page.wait_for_url("**/orders/review/")
    expect(page.locator(".messages")).to_contain_text(f"Order {order.number} is approved.")
    expect(page.locator(".empty-state")).to_contain_text("The review queue is empty.")
    log_out(page)

    # Sales sees the decision: the notification, and the order no longer in review.
    login("li.na", "pw")
    page.goto("/notifications/")
    expect(page.locator("table.notifications")).to_contain_text(f"Order {order.number} was approved by wang.wei.")
    page.locator("table.notifications button", has_text="Open").first.click()
    page.wait_for_url(f"**/orders/{order.pk}/")
    status = page.locator("#order-status").get_attribute("data-status")
    assert status in {OrderStatus.APPROVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED}
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.approved_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.TRANSITION, to_state=OrderStatus.APPROVED, by__username="wang.wei").exists()

    # The customer got the confirmation, in Chinese, with the discounted figures.
    [confirmation] = [m for m in mail.outbox if m.to == ["caigou@huanan.example"]]
    assert confirmation.subject == f"订单确认 {order.number}"
    assert "475.00" in confirmation.body and str(order.total) in confirmation.body
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).exists()
    assert any(m.to == [sales.email] and "approved" in m.subject for m in mail.outbox)

"""The orders section of the customer page and the credit exposure it reports (orders.customer_panel, orders.credit)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.tests.factories import CustomerFactory, make_order
from orders.credit import customer_available_credit, customer_credit_exposure
from orders.customer_panel import customer_orders_panel

pytestmark = pytest.mark.django_db


def test_exposure_counts_committed_orders_only(make_user):
    seller = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("10000.00"))
    approved = make_order(customer=customer, user=seller, status="approved", total=Decimal("7000.00"))
    make_order(customer=customer, user=seller, status="shipped", total=Decimal("4000.00"))
    make_order(customer=customer, user=seller, status="draft", total=Decimal("999.00"))
    make_order(customer=customer, user=seller, status="cancelled", total=Decimal("500.00"))
    assert customer_credit_exposure(customer=customer) == Decimal("11000.00")
    assert customer_credit_exposure(customer=customer, extra=Decimal("1.00"), exclude_order_id=approved.pk) == Decimal("4001.00")
    assert customer_available_credit(customer=customer) == Decimal("-1000.00")


def test_panel_lists_recent_orders_with_counts_per_status_and_the_exposure(make_user):
    seller = make_user("sales")
    customer = CustomerFactory()
    make_order(customer=customer, user=seller, status="approved", total=Decimal("1234.50"), number="SO-T-PANEL-1")
    make_order(customer=customer, user=seller, status="draft", total=Decimal("10.00"), number="SO-T-PANEL-2")
    panel = customer_orders_panel(customer=customer, user=seller)
    assert panel.count == 2 and panel.exposure == Decimal("1234.50")
    assert sorted(chip.text for chip in panel.chips) == ["Approved: 1", "Draft: 1"]
    numbers = [row[0].text for row in panel.rows]
    assert set(numbers) == {"SO-T-PANEL-1", "SO-T-PANEL-2"}
    assert all(row[0].url for row in panel.rows)


def test_panel_is_only_for_users_who_may_see_orders(make_user):
    customer = CustomerFactory()
    assert customer_orders_panel(customer=customer, user=make_user()) is None

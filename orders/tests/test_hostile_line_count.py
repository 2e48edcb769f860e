"""A tampered line count is a form error on the page, never a server error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.entry.services import MAX_ORDER_LINES
from orders.models import SalesOrder
from orders.tests.entry_data import entry_post
from orders.tests.factories import ProductFactory, customer_with_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.mark.parametrize("total", ["999999", str(MAX_ORDER_LINES + 1), "2147483648", "1" + "0" * 30])
def test_a_huge_line_count_is_a_form_error(client_as, total):
    clerk = client_as("sales")
    customer, address = customer_with_address()
    product = ProductFactory(list_price=Decimal("100.00"))
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")])
    data["lines-TOTAL_FORMS"] = total
    response = clerk.post(reverse("orders:create"), data)
    assert response.status_code == 400
    assert f"Please submit at most {MAX_ORDER_LINES} forms." in response.content.decode()
    assert len(response.context["rows"]) == 1  # the one posted line, not a thousand empty ones
    assert SalesOrder.objects.count() == 0

"""The discount of an order line: empty means none, and it is shown empty (placeholder 0), never a "0" to type after."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from config.widgets import ZeroAsEmptyNumberInput
from orders.entry.forms import line_data
from orders.models import SalesOrder
from orders.tests.entry_data import entry_post
from orders.tests.factories import ProductFactory, customer_with_address, draft_order, ean13

pytestmark = pytest.mark.django_db


def _discount_inputs(html: str) -> list[str]:
    return re.findall(r'<input[^>]*name="lines-\d+-discount_percent"[^>]*>', html)


def test_an_empty_discount_is_no_discount(client_as):
    client = client_as("sales")
    customer, address = customer_with_address()
    product = ProductFactory(list_price=Decimal("40.00"), tax_rate=Decimal("0.1300"))
    response = client.post(reverse("orders:create"), entry_post(customer=customer, address=address, lines=[(product, 2, "", "")]))
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert list(order.lines.values_list("discount_percent", "line_net")) == [(Decimal("0.00"), Decimal("80.00"))]
    assert order.total == Decimal("90.40")


def test_a_scanned_line_shows_an_empty_discount_that_selects_itself(client_as):
    client = client_as("sales")
    product = ProductFactory(barcode=ean13("690555000001"), list_price=Decimal("10.00"))
    response = client.post(reverse("orders:entry_lines"), {**line_data([]), "op": "scan", "scan_code": product.barcode})
    [field] = _discount_inputs(response.content.decode())
    assert 'placeholder="0"' in field and "data-select-on-focus" in field
    assert "value=" not in field  # empty: typing 10 gives 10 %


def test_editing_a_draft_shows_a_zero_discount_empty_and_a_real_one_as_it_is(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user, lines=2)
    first, *others = list(order.lines.order_by("position"))
    order.lines.filter(pk=first.pk).update(discount_percent=Decimal("7.50"))
    order.lines.exclude(pk=first.pk).update(discount_percent=Decimal("0"))
    fields = _discount_inputs(client.get(reverse("orders:edit", args=[order.pk])).content.decode())
    assert len(fields) == 1 + len(others)
    assert 'value="7.50"' in fields[0]
    assert all("value=" not in field for field in fields[1:])


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, None), ("", None), ("0", None), ("0.00", None), (Decimal("0"), None), ("5", "5"), ("abc", "abc")],
)
def test_the_widget_shows_zero_as_empty(value, shown):
    assert ZeroAsEmptyNumberInput().format_value(value) == shown

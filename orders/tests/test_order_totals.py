"""Money on orders: each line rounded half-up to the cent, totals the sums of rounded lines, never float.

The entry form's live totals and the stored totals come from the same code (line_amounts).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.entry.forms import OrderLineFormSet, line_data
from orders.entry.services import LineInput, OrderHeader, order_create
from orders.entry.views import _lines_context
from orders.models import MAX_LINE_QUANTITY, line_amounts
from orders.tests.factories import ProductFactory, customer_with_address

CENT = Decimal("0.01")

quantities = st.integers(min_value=1, max_value=MAX_LINE_QUANTITY)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2, allow_nan=False, allow_infinity=False)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2, allow_nan=False, allow_infinity=False)
tax_rates = st.sampled_from([Decimal("0"), Decimal("0.0300"), Decimal("0.0600"), Decimal("0.0900"), Decimal("0.1300")])


def test_a_line_rounds_half_up_at_the_cent():
    # 1 × 0.05 with 90 % off is 0.005: half-up gives 0.01 (banker's rounding would give 0.00).
    assert line_amounts(quantity=1, unit_price=Decimal("0.05"), discount_percent=Decimal("90"), tax_rate=Decimal("0")) == (
        Decimal("0.01"),
        Decimal("0.00"),
        Decimal("0.01"),
    )
    # 3 × 33.33 with 10 % off = 89.991 -> 89.99; tax 13 % = 11.6987 -> 11.70.
    assert line_amounts(quantity=3, unit_price=Decimal("33.33"), discount_percent=Decimal("10"), tax_rate=Decimal("0.13")) == (
        Decimal("89.99"),
        Decimal("11.70"),
        Decimal("101.69"),
    )


@given(quantity=quantities, unit_price=prices, discount=discounts, tax_rate=tax_rates)
def test_line_amounts_are_decimal_cents_rounded_half_up(quantity, unit_price, discount, tax_rate):
    net, tax, total = line_amounts(quantity=quantity, unit_price=unit_price, discount_percent=discount, tax_rate=tax_rate)
    exact_net = Decimal(quantity) * unit_price * (Decimal(100) - discount) / Decimal(100)
    assert net == exact_net.quantize(CENT, rounding=ROUND_HALF_UP)
    assert tax == (net * tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    assert total == net + tax
    for amount in (net, tax, total):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        line_amounts(quantity=1, unit_price=0.1, discount_percent=Decimal("0"), tax_rate=Decimal("0.13"))


line_specs = st.lists(st.tuples(st.integers(1, 500), prices, discounts, tax_rates), min_size=1, max_size=6)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=line_specs)
def test_order_totals_are_sums_of_rounded_lines_on_screen_and_stored(make_user, specs):
    manager_clerk = make_user("sales", "manager")  # may price freely: the property is about arithmetic
    customer, address = customer_with_address()
    products = [ProductFactory(list_price=price or Decimal("1.00"), tax_rate=rate) for _q, price, _d, rate in specs]
    entered = [
        LineInput(product=product, quantity=quantity, unit_price=price, discount_percent=discount)
        for product, (quantity, price, discount, _rate) in zip(products, specs, strict=True)
    ]
    expected = [
        line_amounts(
            quantity=e.quantity, unit_price=e.unit_price, discount_percent=e.discount_percent, tax_rate=e.product.tax_rate
        )
        for e in entered
    ]

    # What the entry form shows while typing (no database write) ...
    formset = OrderLineFormSet(
        line_data(
            [
                {
                    "product": str(e.product.pk),
                    "quantity": str(e.quantity),
                    "unit_price": str(e.unit_price),
                    "discount_percent": str(e.discount_percent),
                }
                for e in entered
            ]
        ),
        user=manager_clerk,
    )
    assert formset.is_valid(), formset.errors
    shown = _lines_context(formset)["totals"]
    # ... and what is stored when the order is saved.
    order = order_create(header=OrderHeader(customer=customer, shipping_address=address), lines=entered, by=manager_clerk)

    assert order.subtotal == shown["net"] == sum((net for net, _t, _g in expected), Decimal("0"))
    assert order.tax_total == shown["tax"] == sum((tax for _n, tax, _g in expected), Decimal("0"))
    assert order.total == shown["total"] == order.subtotal + order.tax_total
    stored = list(order.lines.order_by("position").values_list("line_net", "line_tax", "line_total"))
    assert stored == expected
    assert order.line_count == len(entered)

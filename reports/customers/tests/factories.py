"""Test data for the customer snapshot: orders of a known date, state and amount, put straight into the table."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from customers.tests.factories import CustomerFactory, make_order
from inventory.tests.factories import ProductFactory
from orders.models import SalesOrder, SalesOrderLine

__all__ = ["CustomerFactory", "ProductFactory", "line", "order_on"]


def order_on(
    *,
    customer,
    user,
    days_ago: float,
    total: Decimal | int | str = "100.00",
    status: str = "completed",
    now: datetime | None = None,
) -> SalesOrder:
    """An order of `customer` entered `days_ago` days before `now`, for `total` (net = gross: no tax, for easy sums)."""
    order = make_order(customer=customer, user=user, status=status, total=Decimal(str(total)))
    entered = (now or timezone.now()) - timedelta(days=days_ago)
    SalesOrder.objects.filter(pk=order.pk).update(created_at=entered)
    order.created_at = entered
    return order


def line(order: SalesOrder, product, *, quantity: int, net: Decimal | str) -> SalesOrderLine:
    """A line of `quantity` units for `net` (no tax) on an order made by order_on (its totals are left alone)."""
    net = Decimal(str(net))
    return SalesOrderLine.objects.create(
        order=order,
        position=order.lines.count() + 1,
        product=product,
        description=product.name,
        quantity=quantity,
        unit_price=net / quantity,
        tax_rate=Decimal("0"),
        line_net=net,
        line_tax=Decimal("0.00"),
        line_total=net,
    )

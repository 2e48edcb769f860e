"""Credit exposure: what a customer owes and has committed, read above customers (it needs orders)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from config.money import ZERO, round_money
from customers.models import Customer
from orders.models import OPEN_COMMITTED, SalesOrder


def customer_credit_exposure(*, customer: Customer, extra: Decimal = ZERO, exclude_order_id: int | None = None) -> Decimal:
    """Open receivables + approved orders not yet invoiced (+ `extra`, e.g. the order being checked).

    Receivables join this sum when billing exists; until then exposure is the committed orders.
    """
    orders = SalesOrder.objects.filter(customer=customer, status__in=OPEN_COMMITTED)
    if exclude_order_id:
        orders = orders.exclude(pk=exclude_order_id)
    committed = orders.aggregate(total=Sum("total"))["total"] or ZERO
    return round_money(committed + extra)  # SQLite's SUM carries extra digits; money is cents


def customer_available_credit(*, customer: Customer) -> Decimal:
    return customer.credit_limit - customer_credit_exposure(customer=customer)

"""Reads of customers that pages, review rules and reports share."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from config.money import ZERO

from .models import Customer


def customer_credit_exposure(*, customer: Customer, extra: Decimal = ZERO, exclude_order_id: int | None = None) -> Decimal:
    """Open receivables + approved orders not yet invoiced (+ `extra`, e.g. the order being checked).

    Receivables join this sum when billing exists; until then exposure is the committed orders.
    """
    from orders.models import OPEN_COMMITTED

    orders = customer.orders.filter(status__in=OPEN_COMMITTED)
    if exclude_order_id:
        orders = orders.exclude(pk=exclude_order_id)
    committed = orders.aggregate(total=Sum("total"))["total"] or ZERO
    return committed + extra


def customer_available_credit(*, customer: Customer) -> Decimal:
    return customer.credit_limit - customer_credit_exposure(customer=customer)


def customer_search(*, query: str, limit: int = 20):
    """Customers whose code, name (any script), other name, phone or tax ID contains the query."""
    from django.db.models import Q

    query = (query or "").strip()
    customers = Customer.objects.all()
    if query:
        customers = customers.filter(
            Q(code__icontains=query) | Q(name__icontains=query) | Q(alt_name__icontains=query)
            | Q(phone__icontains=query) | Q(tax_id__icontains=query)
        )
    return customers.order_by("name", "pk")[:limit]


def home_queues(user) -> list:
    return []

"""Template tags that load stock for a page in a fixed number of queries (no N+1)."""

from __future__ import annotations

from django import template

from orders.models import OrderStatus

from .. import selectors

register = template.Library()

# Before approval nothing is reserved: the order page shows what is free instead.
BEFORE_ALLOCATION = {OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.IN_REVIEW, OrderStatus.REJECTED}


@register.simple_tag
def order_stock_rows(order) -> list[dict]:
    """Per order line: reservations by warehouse, shipped and short (two queries), or, before
    approval, free stock per warehouse (one more)."""
    rows = selectors.order_lines_stock(order=order)
    if order.status in BEFORE_ALLOCATION and rows:
        free = selectors.availability_by_warehouse(product_ids={row["line"].product_id for row in rows})
        for row in rows:
            row["free"] = [(code, qty) for code, qty in free.get(row["line"].product_id, []) if qty > 0]
    return rows


@register.simple_tag
def product_stock_levels(product) -> list:
    """The product's stock rows per warehouse (one query)."""
    return selectors.product_levels(product=product)

"""Template tags that load an order's stock in a fixed number of queries (no N+1)."""

from __future__ import annotations

from django import template

from inventory.stock.selectors import availability_by_warehouse
from orders.fulfilment.selectors import BEFORE_ALLOCATION, order_lines_stock
from orders.models import OrderStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def order_stock(context) -> dict:
    """Per order line: reservations by warehouse, shipped and short (two queries), or, before
    approval, free stock per warehouse (one more); with what the page says about the order."""
    order = context["order"]
    rows = order_lines_stock(order=order)
    before = order.status in BEFORE_ALLOCATION
    if before and rows:
        free = availability_by_warehouse(product_ids={row["line"].product_id for row in rows})
        for row in rows:
            row["free"] = [(code, qty) for code, qty in free.get(row["line"].product_id, []) if qty > 0]
    return {
        "rows": rows,
        "before_allocation": before,
        "cancelled": order.status == OrderStatus.CANCELLED,
        "being_reserved": order.status == OrderStatus.APPROVED,
    }

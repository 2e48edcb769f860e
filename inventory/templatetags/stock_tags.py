"""Template tags that load stock for a page in a fixed number of queries (no N+1)."""

from __future__ import annotations

from django import template

from inventory.stock import selectors

register = template.Library()


@register.simple_tag
def product_stock_levels(product) -> list:
    """The product's stock rows per warehouse (one query)."""
    return selectors.product_levels(product=product)

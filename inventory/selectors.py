"""Reads of products and stock that pages, review rules and reports share."""

from __future__ import annotations

from django.db.models import Q

from .models import Product


def product_search(*, query: str, limit: int = 20, active_only: bool = True):
    """Products whose SKU, barcode or name contains the query (names in any script)."""
    query = (query or "").strip()
    products = Product.objects.all()
    if active_only:
        products = products.filter(is_active=True)
    if query:
        products = products.filter(Q(sku__icontains=query) | Q(barcode__icontains=query) | Q(name__icontains=query))
    return products.order_by("sku")[:limit]


def product_by_code(*, code: str) -> Product | None:
    """The product a scanned barcode (or typed SKU) names exactly, or None."""
    code = (code or "").strip()
    if not code:
        return None
    return Product.objects.filter(Q(barcode=code) | Q(sku__iexact=code)).order_by("pk").first()


def home_queues(user) -> list:
    return []

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


def available_quantities(*, product_ids) -> dict[int, int]:
    """Free stock (on hand − reserved) per product over all active warehouses, in one query."""
    from django.db.models import F, Sum

    from .models import StockLevel

    rows = (
        StockLevel.objects.filter(product_id__in=list(product_ids), warehouse__is_active=True)
        .values("product_id")
        .annotate(available=Sum(F("on_hand") - F("reserved")))
    )
    found = {row["product_id"]: row["available"] or 0 for row in rows}
    return {pid: found.get(pid, 0) for pid in product_ids}


def availability_by_warehouse(*, product_ids) -> dict[int, list[tuple[str, int]]]:
    """Free stock per product and active warehouse (by priority), in one query."""
    from .models import StockLevel

    result: dict[int, list[tuple[str, int]]] = {pid: [] for pid in product_ids}
    levels = (
        StockLevel.objects.filter(product_id__in=list(product_ids), warehouse__is_active=True)
        .select_related("warehouse")
        .order_by("warehouse__priority", "warehouse__code")
    )
    for level in levels:
        result.setdefault(level.product_id, []).append((level.warehouse.code, level.available))
    return result


def home_queues(user) -> list:
    return []

"""Reads of products and stock that pages, review rules and reports share."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import WorkQueue, work_queue
from config.roles import WAREHOUSE, has_role
from config.rows import hot_cursor, sql_in
from inventory.counts.models import StockCount, StockCountState
from inventory.models import (
    LedgerCheck,
    LowStockAlert,
    MovementKind,
    Product,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.transfers.models import StockTransfer, TransferState


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
    product_ids = list(product_ids)
    if not product_ids:
        return {}
    # Raw SQL, prepared (config.rows.hot_cursor): every order's checks read it.
    level, warehouse = StockLevel._meta.db_table, Warehouse._meta.db_table
    matching, params = sql_in(product_ids)
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT s.product_id, SUM(s.on_hand - s.reserved) FROM {level} s JOIN {warehouse} w ON w.id = s.warehouse_id"
            f" WHERE s.product_id {matching} AND w.is_active GROUP BY s.product_id",
            params,
        )
        found = dict(cursor.fetchall())
    return {pid: found.get(pid) or 0 for pid in product_ids}


def availability_by_warehouse(*, product_ids) -> dict[int, list[tuple[str, int]]]:
    """Free stock per product and active warehouse (by priority), in one query."""
    result: dict[int, list[tuple[str, int]]] = {pid: [] for pid in product_ids}
    levels = (
        StockLevel.objects.filter(product_id__in=list(product_ids), warehouse__is_active=True)
        .select_related("warehouse")
        .order_by("warehouse__priority", "warehouse__code")
    )
    for level in levels:
        result.setdefault(level.product_id, []).append((level.warehouse.code, level.available))
    return result


def stock_rows():
    """Stock rows with product and warehouse and their free stock, for the overview's FilterSet."""
    return (
        StockLevel.objects.select_related("product", "warehouse")
        .annotate(free=F("on_hand") - F("reserved"))
        .order_by("product__sku", "warehouse__priority", "warehouse__code")
    )


def product_levels(*, product) -> list:
    """The product's stock rows by warehouse priority, with an empty (unsaved) row for each active
    warehouse that holds none yet, so planning can start there (two queries)."""
    levels = list(StockLevel.objects.filter(product=product).select_related("warehouse"))
    present = {level.warehouse_id for level in levels}
    levels += [
        StockLevel(product=product, warehouse=warehouse)
        for warehouse in Warehouse.objects.filter(is_active=True).exclude(pk__in=present)
    ]
    return sorted(levels, key=lambda level: (level.warehouse.priority, level.warehouse.code))


def shipment_unit_costs(*, document: str, warehouse_id: int) -> dict[int, Decimal | None]:
    """The unit cost (a Decimal, or None when the ledger kept none) at which each product left `warehouse_id` under
    shipment `document`, as stock_consume posted it: its one shipment movement per product and warehouse."""
    movements = StockMovement.objects.filter(
        document=document, warehouse_id=warehouse_id, kind=MovementKind.SHIPMENT, quantity__lt=0, reverses__isnull=True
    )
    return dict(movements.values_list("product_id", "unit_cost"))


def product_movements(*, product, warehouse=None):
    """The product's ledger, newest first, with who posted each movement and what it reversed."""
    movements = StockMovement.objects.filter(product=product).select_related("warehouse", "created_by", "reverses")
    if warehouse is not None:
        movements = movements.filter(warehouse=warehouse)
    return movements.annotate(is_reversed=Exists(StockMovement.objects.filter(reverses=OuterRef("pk")))).order_by(
        "-created_at", "-pk"
    )


def open_alerts():
    """Open low-stock alerts, newest first, with product and warehouse."""
    alerts = LowStockAlert.objects.filter(resolved_at__isnull=True).select_related("product", "warehouse")
    return alerts.order_by("-raised_at", "-pk")


def latest_ledger_check():
    return LedgerCheck.objects.order_by("-checked_at", "-pk").first()


def _work_queue(*, title, url, queryset, empty_text) -> WorkQueue:
    return work_queue(title=title, url=url, queryset=queryset, empty_text=empty_text, role=WAREHOUSE)


def home_queues(user) -> list:
    """Warehouse staff see open low-stock alerts, counts in progress and transfers in transit
    (orders to allocate come from orders)."""
    if not has_role(user, WAREHOUSE):
        return []
    queues = []
    if user.has_perm("inventory.view_lowstockalert"):
        queues.append(
            _work_queue(
                title=_("Low-stock alerts"),
                url=reverse("inventory:alert_list"),
                queryset=open_alerts(),
                empty_text=_("No product is below its safety stock."),
            )
        )
    if user.has_perm("inventory.count_stock"):
        queues.append(
            _work_queue(
                title=_("Stock counts in progress"),
                url=reverse("inventory:count_list"),
                queryset=StockCount.objects.filter(state__in=[StockCountState.OPEN, StockCountState.COUNTING]).order_by("pk"),
                empty_text=_("No stock count is open."),
            )
        )
    if user.has_perm("inventory.transfer_stock"):
        queues.append(
            _work_queue(
                title=_("Transfers in transit"),
                url=f"{reverse('inventory:transfer_list')}?state=shipped",
                queryset=StockTransfer.objects.filter(state=TransferState.SHIPPED).order_by("pk"),
                empty_text=_("No transfer is on its way."),
            )
        )
    return queues

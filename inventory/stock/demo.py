"""Demo stock: three warehouses, opening stock through receipt movements (some products short or
below safety stock), then, after the demo orders (which allocate themselves), alerts, a
replenishment request and a ledger check. Running it again changes nothing that exists."""

from __future__ import annotations

from config.errors import DomainError
from inventory.models import LedgerCheck, Product, ReplenishmentRequest, StockLevel, StockMovement, Warehouse
from inventory.replenishment.services import replenishment_create_from_proposal, replenishment_place
from inventory.stock.alerts import low_stock_refresh
from inventory.stock.services import stock_receive, stock_verify_ledger

OPENING_DOCUMENT = "DEMO-OPENING"

# code, name, priority, address
WAREHOUSES = [
    ("SH", "上海主仓", 1, "上海市浦东新区外高桥保税区富特北路 88 号"),
    ("BJ", "北京仓", 2, "北京市大兴区黄村镇物流园 6 号库"),
    ("GZ", "广州仓", 3, "广州市白云区太和镇物流中心 C 区"),
]
# Opening stock per warehouse (SH, BJ, GZ), used in turn over the catalogue: plenty, some, split,
# low (below safety stock), none at all (its orders wait for stock).
STOCK_PATTERNS = [(600, 200, 150), (200, 120, 0), (80, 0, 90), (25, 6, 0), (0, 0, 0), (400, 0, 0), (10, 40, 15)]
# safety stock, reorder point, reorder quantity per warehouse
PLANNING = {"SH": (20, 40, 100), "BJ": (10, 20, 50), "GZ": (10, 20, 50)}


def _say(stdout, text) -> None:
    if stdout is not None:
        stdout.write(str(text))


def seed(*, users, stdout=None) -> None:
    """Warehouses SH/BJ/GZ with opening stock and safety stock for the demo products."""
    warehouses = {}
    for code, name, priority, address in WAREHOUSES:
        warehouses[code], _created = Warehouse.objects.get_or_create(
            code=code, defaults={"name": name, "priority": priority, "address": address}
        )
    if StockMovement.objects.filter(document=OPENING_DOCUMENT).exists():
        return
    products = list(Product.objects.filter(is_active=True).order_by("sku"))
    if not products:
        _say(stdout, "Stock demo: no products yet, only warehouses seeded.")
        return
    clerk = users.get("warehouse")
    per_warehouse: dict[str, dict[Product, int]] = {code: {} for code in warehouses}
    for index, product in enumerate(products):
        for code, quantity in zip(("SH", "BJ", "GZ"), STOCK_PATTERNS[index % len(STOCK_PATTERNS)], strict=True):
            if quantity:
                per_warehouse[code][product] = quantity
    for code, quantities in per_warehouse.items():
        if quantities:
            stock_receive(
                warehouse=warehouses[code],
                quantities=quantities,
                reference="开账 opening stock",
                by=clerk,
                document=OPENING_DOCUMENT,
            )
    # Every warehouse plans the products it carries; SH, the main warehouse, plans all of them.
    carried = {code: set(quantities) for code, quantities in per_warehouse.items()}
    carried["SH"] = set(products)
    for code, warehouse in warehouses.items():
        safety, reorder_point, reorder_quantity = PLANNING[code]
        StockLevel.objects.bulk_create(
            [StockLevel(product=product, warehouse=warehouse) for product in carried[code]], ignore_conflicts=True
        )
        StockLevel.objects.filter(warehouse=warehouse, product__in=carried[code]).update(
            safety_stock=safety, reorder_point=reorder_point, reorder_quantity=reorder_quantity
        )
    _say(stdout, f"Stock demo: {len(products)} products in {len(warehouses)} warehouses.")


def seed_after_orders(*, users, stdout=None) -> None:
    """Raise the low-stock alerts the demo orders left, draft and order a replenishment request
    from the proposal, and record a ledger check (allocating the orders is the orders app's part)."""
    low_stock_refresh()
    clerk = users.get("warehouse")
    if clerk is not None and not ReplenishmentRequest.objects.exists():
        for warehouse in Warehouse.objects.filter(is_active=True).order_by("priority", "code"):
            try:
                request = replenishment_create_from_proposal(warehouse=warehouse, by=clerk, supplier="宁波日用品贸易有限公司")
            except DomainError:
                continue
            replenishment_place(request=request, by=clerk)
            _say(stdout, f"Stock demo: replenishment request {request.number} ordered for {warehouse.code}.")
            break
    if not LedgerCheck.objects.exists():
        stock_verify_ledger()

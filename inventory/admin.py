from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "barcode", "unit", "list_price", "min_price", "max_discount_percent", "tax_rate", "is_active"]
    list_filter = ["is_active", "unit"]
    search_fields = ["sku", "name", "barcode"]
    readonly_fields = ["created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # order lines name products: deactivate instead


# --- stock (the stock engineer appends the stock admins below) -------------------------------------
from .models import (  # noqa: E402
    LedgerCheck,
    LowStockAlert,
    ReplenishmentLine,
    ReplenishmentRequest,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)


class _StockReadOnlyAdmin(admin.ModelAdmin):
    """Stock changes only through its services (ledger, allocation): the admin only shows it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "priority", "is_active"]
    list_editable = ["priority", "is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False  # stock rows and movements name warehouses: deactivate instead


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """On hand and reserved move only through movements and reservations; planning figures may be edited."""

    list_display = ["product", "warehouse", "on_hand", "reserved", "safety_stock", "reorder_point", "reorder_quantity"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name", "product__barcode"]
    list_select_related = ["product", "warehouse"]
    fields = ["product", "warehouse", "on_hand", "reserved", "safety_stock", "reorder_point", "reorder_quantity", "updated_at"]
    readonly_fields = ["product", "warehouse", "on_hand", "reserved", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(_StockReadOnlyAdmin):
    list_display = ["created_at", "product", "warehouse", "kind", "quantity", "document", "worded_reason", "created_by"]
    list_filter = ["kind", "warehouse"]
    search_fields = ["product__sku", "document", "reason"]
    list_select_related = ["product", "warehouse", "created_by"]
    date_hierarchy = "created_at"

    @admin.display(description=_("reason"))
    def worded_reason(self, movement: StockMovement) -> str:
        return movement.reason_text


@admin.register(Reservation)
class ReservationAdmin(_StockReadOnlyAdmin):
    list_display = ["order_line", "product", "warehouse", "quantity", "state", "created_at"]
    list_filter = ["state", "warehouse"]
    search_fields = ["order_line__order__number", "product__sku"]
    list_select_related = ["order_line__order", "product", "warehouse"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(_StockReadOnlyAdmin):
    list_display = ["product", "warehouse", "available", "safety_stock", "raised_at", "notified_at", "resolved_at"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]


@admin.register(LedgerCheck)
class LedgerCheckAdmin(_StockReadOnlyAdmin):
    list_display = ["checked_at", "ok", "levels_checked"]
    list_filter = ["ok"]


class ReplenishmentLineInline(admin.TabularInline):
    model = ReplenishmentLine
    fields = ["product", "quantity_ordered", "quantity_received"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReplenishmentRequest)
class ReplenishmentRequestAdmin(_StockReadOnlyAdmin):
    list_display = ["number", "warehouse", "state", "supplier", "created_at", "ordered_at", "received_at"]
    list_filter = ["state", "warehouse"]
    search_fields = ["number", "supplier"]
    list_select_related = ["warehouse"]
    inlines = [ReplenishmentLineInline]


# --- stock counts and transfers: read-only here (they change only through their pages and services) ---
from .counts.models import StockCount, StockCountLine  # noqa: E402
from .transfers.models import StockTransfer, StockTransferLine  # noqa: E402


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StockCountLineInline(admin.TabularInline):
    model = StockCountLine
    fields = ["product", "expected_quantity", "on_hand_at_count", "counted_quantity", "adjustment_quantity", "movement"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StockCount)
class StockCountAdmin(_ReadOnlyAdmin):
    list_display = ["number", "warehouse", "state", "line_count", "opened_at", "opened_by", "posted_at"]
    list_filter = ["state", "warehouse"]
    search_fields = ["number"]
    list_select_related = ["warehouse", "opened_by"]
    inlines = [StockCountLineInline]


class StockTransferLineInline(admin.TabularInline):
    model = StockTransferLine
    fields = ["product", "quantity", "received_quantity", "discrepancy_reason", "out_movement", "in_movement"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StockTransfer)
class StockTransferAdmin(_ReadOnlyAdmin):
    list_display = ["number", "source", "destination", "state", "line_count", "created_at", "shipped_at", "received_at"]
    list_filter = ["state", "source", "destination"]
    search_fields = ["number"]
    list_select_related = ["source", "destination"]
    inlines = [StockTransferLineInline]

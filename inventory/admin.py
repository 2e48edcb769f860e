from __future__ import annotations

from django.contrib import admin

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


# --- stock counts and transfers: read-only here (they change only through their pages and services) ---
from .count_models import StockCount, StockCountLine  # noqa: E402
from .transfer_models import StockTransfer, StockTransferLine  # noqa: E402


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

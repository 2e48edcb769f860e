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

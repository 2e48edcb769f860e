"""Django admin for orders: a read-mostly view for support staff.

Orders, lines, statuses and the timeline change only through the services (numbering, totals, the
state machine), so here they are read-only; the review thresholds are editable.
"""

from __future__ import annotations

from django.contrib import admin

from .models import OrderEvent, ReviewFinding, ReviewSettings, SalesOrder, SalesOrderLine
from .review.services import review_settings_update


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: these rows change only through the services."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SalesOrderLineInline(ReadOnlyInline):
    model = SalesOrderLine
    fields = [
        "position",
        "product",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "line_net",
        "line_tax",
        "line_total",
    ]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "kind", "by", "from_state", "to_state", "note"]
    readonly_fields = fields


@admin.register(SalesOrder)
class SalesOrderAdmin(ReadOnlyAdmin):
    """Orders are entered on the order pages (which number and total them) and cancelled, never deleted."""

    list_display = ["number", "customer", "status", "channel", "total", "created_by", "created_at"]
    list_filter = ["status", "channel", "created_at"]
    search_fields = ["number", "customer_po", "customer__name", "customer__code"]
    list_select_related = ["customer", "created_by"]
    date_hierarchy = "created_at"
    inlines = [SalesOrderLineInline, OrderEventInline]
    readonly_fields = [
        "number",
        "status",
        "customer",
        "shipping_address",
        "contact",
        "channel",
        "customer_po",
        "requested_date",
        "notes",
        "currency",
        "subtotal",
        "tax_total",
        "total",
        "line_count",
        "created_by",
        "created_at",
        "updated_at",
        "submitted_at",
        "approved_at",
        "version",
    ]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "from_state", "to_state", "by", "at"]
    list_filter = ["kind", "to_state"]
    search_fields = ["order__number", "note"]
    list_select_related = ["order", "by"]
    readonly_fields = ["order", "kind", "at", "by", "from_state", "to_state", "note"]


@admin.register(ReviewFinding)
class ReviewFindingAdmin(ReadOnlyAdmin):
    list_display = ["order", "submission", "rule", "severity", "created_at"]
    list_filter = ["rule", "severity"]
    search_fields = ["order__number", "message"]
    list_select_related = ["order"]
    readonly_fields = ["order", "submission", "rule", "severity", "message", "figures", "created_at"]


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "amount_threshold", "sales_max_discount_percent", "overdue_days", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return not ReviewSettings.objects.exists()  # one row

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Through the review service, like the settings page: one row, locked, validated, who changed it.
        saved = review_settings_update(values=form.cleaned_data, by=request.user)
        obj.pk = saved.pk

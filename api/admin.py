from __future__ import annotations

from django.contrib import admin

from api.models import ApiClient, ChannelCustomer, IdempotencyKey


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Read-only here: clients are created and revoked on the API clients page (the token is shown once there)."""

    list_display = ["name", "channel", "token_prefix", "rate_limit_per_minute", "last_used_at", "revoked_at"]
    list_filter = ["channel", "revoked_at"]
    search_fields = ["name", "token_prefix"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "client", "user", "method", "path", "response_status", "created_at"]
    search_fields = ["key"]
    raw_id_fields = ["client", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChannelCustomer)
class ChannelCustomerAdmin(admin.ModelAdmin):
    list_display = ["channel", "external_id", "customer", "created_at"]
    list_filter = ["channel"]
    search_fields = ["external_id", "customer__code", "customer__name"]
    raw_id_fields = ["customer"]

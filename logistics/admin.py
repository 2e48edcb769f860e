from __future__ import annotations

from django.contrib import admin

from logistics.models import Carrier, OrderTrackingToken, UnmatchedTrackingEvent


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "transit_days", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(UnmatchedTrackingEvent)
class UnmatchedTrackingEventAdmin(admin.ModelAdmin):
    """Pushed events for waybill numbers we do not know, kept aside for review."""

    list_display = ["received_at", "carrier_code", "waybill_number", "time", "status", "source", "resolved_at"]
    list_filter = ["source", "status", "resolved_at"]
    search_fields = ["waybill_number", "carrier_code"]
    readonly_fields = ["description_hash"]


@admin.register(OrderTrackingToken)
class OrderTrackingTokenAdmin(admin.ModelAdmin):
    list_display = ["order", "created_at", "revoked_at"]
    search_fields = ["order__number"]
    raw_id_fields = ["order"]
    readonly_fields = ["token", "created_at"]

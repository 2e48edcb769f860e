from __future__ import annotations

from django.contrib import admin

from logistics.models import Carrier


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "transit_days", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]

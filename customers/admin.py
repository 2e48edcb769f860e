from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from config.numbering import document_number

from .models import Address, Complaint, Contact, Customer, CustomerEvent


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "alt_name", "kind", "segment", "credit_rating", "credit_limit", "is_blocked", "salesperson"]
    list_filter = ["kind", "segment", "credit_rating", "is_blocked"]
    search_fields = ["code", "name", "alt_name", "phone", "tax_id"]
    readonly_fields = ["code", "created_at", "updated_at"]
    list_select_related = ["salesperson"]
    raw_id_fields = ["salesperson"]
    inlines = [AddressInline, ContactInline]

    def save_model(self, request, obj, form, change):
        if not change and not obj.code:
            with transaction.atomic():
                obj.code = document_number("customer")
                super().save_model(request, obj, form, change)
            return
        super().save_model(request, obj, form, change)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "category", "subject", "state", "assignee", "created_at"]
    list_filter = ["state", "category"]
    search_fields = ["number", "subject", "customer__name", "customer__code"]
    # The state moves only through the complaint pages (transitions with a timeline), never here.
    readonly_fields = ["number", "state", "created_at", "updated_at", "started_at", "resolved_at", "closed_at", "reopened_at"]
    list_select_related = ["customer", "assignee"]
    raw_id_fields = ["customer", "order", "assignee", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change and not obj.number:
            with transaction.atomic():
                obj.number = document_number("complaint")
                super().save_model(request, obj, form, change)
            return
        super().save_model(request, obj, form, change)


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ["at", "customer", "kind", "by"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "customer__code", "note"]
    list_select_related = ["customer", "by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

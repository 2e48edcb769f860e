"""The back office for customers: every save goes through the services (rules, timeline, who did it)."""

from __future__ import annotations

from django.contrib import admin

from .models import Address, Complaint, Contact, CreditChangeRequest, Customer, CustomerEvent
from .services import (
    COMPLAINT_FIELDS,
    CREDIT_FIELDS,
    CREDIT_PERMISSION,
    CUSTOMER_FIELDS,
    complaint_create,
    complaint_update,
    customer_create,
    customer_update,
)


class ReadOnlyInline(admin.TabularInline):
    """Shown for reference; changed on the customer's pages, where each change is on its timeline."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AddressInline(ReadOnlyInline):
    model = Address


class ContactInline(ReadOnlyInline):
    model = Contact


def _copy_saved(obj, saved) -> None:
    """The admin keeps working with its own instance: give it what the service stored."""
    for field in obj._meta.concrete_fields:
        obj.__dict__[field.attname] = saved.__dict__[field.attname]  # past the FSM's guard on `state`


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "alt_name", "kind", "segment", "credit_rating", "credit_limit", "is_blocked", "salesperson"]
    list_filter = ["kind", "segment", "credit_rating", "is_blocked"]
    search_fields = ["code", "name", "alt_name", "phone", "tax_id"]
    # Blocking states a reason and needs its own permission: the customer page's Block button does it.
    readonly_fields = ["code", "is_blocked", "blocked_reason", "created_at", "updated_at"]
    list_select_related = ["salesperson"]
    raw_id_fields = ["salesperson"]
    inlines = [AddressInline, ContactInline]

    def get_readonly_fields(self, request, obj=None):
        # Credit terms are finance's decision: shown, not offered, to everyone else (the service refuses them too).
        if request.user.has_perm(CREDIT_PERMISSION):
            return self.readonly_fields
        return [*self.readonly_fields, *CREDIT_FIELDS]

    def save_model(self, request, obj, form, change):
        """Credit limit, rating and terms change like on the page: checked, with an old → new row naming who."""
        data = {name: form.cleaned_data[name] for name in CUSTOMER_FIELDS if name in form.cleaned_data}
        if change:
            saved = customer_update(customer=obj, data=data, by=request.user)
        else:
            saved = customer_create(data=data, by=request.user)
        _copy_saved(obj, saved)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "category", "subject", "state", "assignee", "created_at"]
    list_filter = ["state", "category"]
    search_fields = ["number", "subject", "customer__name", "customer__code"]
    # The state and its resolution move only through the complaint pages (transitions on the timeline);
    # the order is chosen there too, from the customer's own orders.
    readonly_fields = [
        "number",
        "order",
        "state",
        "resolution",
        "created_by",
        "created_at",
        "updated_at",
        "started_at",
        "resolved_at",
        "closed_at",
        "reopened_at",
    ]
    list_select_related = ["customer", "assignee"]
    raw_id_fields = ["customer", "assignee"]

    def has_change_permission(self, request, obj=None):
        # A closed complaint is reopened on its page before anything about it changes.
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # A complaint stays with the customer it was opened for.
        return [*self.readonly_fields, "customer"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in COMPLAINT_FIELDS if name in form.cleaned_data}
        if change:
            saved = complaint_update(complaint=obj, data=data, by=request.user)
        else:
            saved = complaint_create(customer=form.cleaned_data["customer"], data=data, by=request.user)
        _copy_saved(obj, saved)


@admin.register(CreditChangeRequest)
class CreditChangeRequestAdmin(admin.ModelAdmin):
    """Read only: requests are made and decided on the customer pages, where each step is on the timeline."""

    list_display = ["customer", "state", "credit_limit", "credit_rating", "payment_terms_days", "requested_by", "decided_by"]
    list_filter = ["state"]
    search_fields = ["customer__name", "customer__code", "reason"]
    list_select_related = ["customer", "requested_by", "decided_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ["at", "customer", "kind", "actor_label"]
    list_filter = ["kind", "actor_kind"]
    search_fields = ["customer__name", "customer__code", "note"]
    list_select_related = ["customer", "by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

"""A customer's addresses and contact persons: add, edit, remove, choose the default."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError, form_error_from
from config.http import safe_next_url

from . import services
from .forms import AddressForm, ContactForm
from .models import Address, Contact, Customer


def _edit_url(customer: Customer) -> str:
    return reverse("customers:edit", args=[customer.pk]) + "#addresses"


def _back_url(request, fallback: str) -> str:
    """Where the user came from (e.g. the customer page), when it is on this site; else the fallback."""
    return safe_next_url(request, request.POST.get("next") or request.GET.get("next")) or fallback


def _data(form) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k not in ("make_default", "make_primary")}


@permission_required("customers.change_customer", raise_exception=True)
def address_create(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    back_url = _back_url(request, _edit_url(customer))
    form = AddressForm(request.POST or None, initial={"recipient": customer.name, "phone": customer.phone})
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(
                customer=customer, data=_data(form), make_default=form.cleaned_data["make_default"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("The address was added."))
            return redirect(back_url)
    return render(
        request,
        "customers/address_form.html",
        {"form": form, "customer": customer, "back_url": back_url},
        status=400 if form.errors else 200,
    )


@permission_required("customers.change_customer", raise_exception=True)
def address_edit(request, pk: int, address_pk: int):
    address = get_object_or_404(Address.objects.select_related("customer"), pk=address_pk, customer_id=pk)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(
                address=address, data=_data(form), make_default=form.cleaned_data["make_default"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("The address was saved."))
            return redirect(_edit_url(address.customer))
    return render(
        request,
        "customers/address_form.html",
        {"form": form, "customer": address.customer, "address": address},
        status=400 if form.errors else 200,
    )


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def address_delete(request, pk: int, address_pk: int):
    address = get_object_or_404(Address.objects.select_related("customer"), pk=address_pk, customer_id=pk)
    try:
        services.address_delete(address=address, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The address was removed."))
    return redirect(_edit_url(address.customer))


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def address_set_default(request, pk: int, address_pk: int):
    address = get_object_or_404(Address.objects.select_related("customer"), pk=address_pk, customer_id=pk)
    try:
        services.address_set_default(address=address, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The default %(kind)s address is now: %(address)s")
            % {"kind": address.get_kind_display().lower(), "address": address.one_line()},
        )
    return redirect(_edit_url(address.customer))


@permission_required("customers.change_customer", raise_exception=True)
def contact_create(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    back_url = _back_url(request, reverse("customers:edit", args=[customer.pk]) + "#contacts")
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(
                customer=customer, data=_data(form), make_primary=form.cleaned_data["make_primary"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("The contact was added."))
            return redirect(back_url)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "back_url": back_url},
        status=400 if form.errors else 200,
    )


@permission_required("customers.change_customer", raise_exception=True)
def contact_edit(request, pk: int, contact_pk: int):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=contact_pk, customer_id=pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                contact=contact, data=_data(form), make_primary=form.cleaned_data["make_primary"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("The contact was saved."))
            return redirect(reverse("customers:edit", args=[pk]) + "#contacts")
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": contact.customer, "contact": contact},
        status=400 if form.errors else 200,
    )


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def contact_delete(request, pk: int, contact_pk: int):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=contact_pk, customer_id=pk)
    try:
        services.contact_delete(contact=contact, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The contact was removed."))
    return redirect(reverse("customers:edit", args=[pk]) + "#contacts")

"""Customer pages: the list, create and edit, the 360 page, blocking."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once

from . import selectors, services
from .forms import BlockForm, CustomerForm
from .models import Customer

PAGE_SIZE = 25


@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request):
    """All customers, searchable by code, name in any script, phone or tax ID, with filters."""
    filterset = selectors.customer_list(filters=request.GET, user=request.user)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page_obj": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/customer_list.html#results", context)
    return render(request, "customers/customer_list.html", context)


@permission_required("customers.add_customer", raise_exception=True)
@submitted_once("customers.create", form=True)
def customer_create(request):
    form = CustomerForm(request.POST or None, initial={"salesperson": request.user.pk}, user=request.user)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            customer = services.customer_create(data=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Customer %(customer)s was created.") % {"customer": customer})
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_update(
                customer=customer,
                data=form.cleaned_data,
                by=request.user,
                loaded_at=form.cleaned_data.get("loaded_at"),
                note=form.cleaned_data.get("credit_note", ""),
            )
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Customer %(customer)s was saved.") % {"customer": customer})
            return redirect(customer)
    customer.refresh_from_db()  # a failed validation must not show half-applied values in the page head
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "addresses": customer.addresses.all(),
            "contacts": customer.contacts.all(),
        },
        status=400 if form.errors else 200,
    )


@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request, pk: int):
    """The customer 360 page: credit, orders, complaints, addresses, contacts and the timeline."""
    customer = get_object_or_404(Customer.objects.select_related("salesperson"), pk=pk)
    overview = selectors.customer_overview(customer=customer, user=request.user)
    return render(request, "customers/customer_detail.html", {"customer": customer, **overview})


def _block_page(request, pk: int, *, block: bool):
    customer = get_object_or_404(Customer, pk=pk)
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if block:
                services.customer_block(customer=customer, reason=form.cleaned_data["reason"], by=request.user)
            else:
                services.customer_unblock(customer=customer, reason=form.cleaned_data["reason"], by=request.user)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            if block:
                messages.warning(request, _("%(customer)s is blocked: new orders go to review.") % {"customer": customer.name})
            else:
                messages.success(request, _("%(customer)s is no longer blocked.") % {"customer": customer.name})
            return redirect(customer)
    return render(
        request,
        "customers/customer_block.html",
        {"form": form, "customer": customer, "block": block},
        status=400 if form.errors else 200,
    )


@permission_required(["customers.change_customer", "customers.block_customer"], raise_exception=True)
def customer_block(request, pk: int):
    """Block a customer, with a reason (finance and managers)."""
    return _block_page(request, pk, block=True)


@permission_required(["customers.change_customer", "customers.block_customer"], raise_exception=True)
def customer_unblock(request, pk: int):
    """Lift a block, with a reason (finance and managers)."""
    return _block_page(request, pk, block=False)

"""Credit change requests: sales ask on the customer page, finance decides in its queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError, form_error_from

from . import selectors, services
from .forms import CreditDecisionForm, CreditRequestForm
from .models import CreditChangeRequest, Customer


@permission_required("customers.change_customer", raise_exception=True)
def credit_request_create(request, pk: int):
    """Ask finance for another credit limit, rating or payment terms, saying why."""
    customer = get_object_or_404(Customer, pk=pk)
    form = CreditRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data.get(name) for name in CreditChangeRequest.FIELDS}
        try:
            services.credit_request_create(customer=customer, data=data, reason=form.cleaned_data["reason"], by=request.user)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Your request was sent to finance."))
            return redirect(customer)
    return render(
        request,
        "customers/creditrequest_form.html",
        {"form": form, "customer": customer},
        status=400 if form.errors else 200,
    )


@permission_required("customers.view_customer", raise_exception=True)
def credit_request_list(request):
    """Finance's queue of credit change requests (everyone else sees the ones they made)."""
    requests = selectors.credit_request_list(user=request.user, state=request.GET.get("state", ""))
    return render(
        request,
        "customers/creditrequest_list.html",
        {"requests": requests, "states": CreditChangeRequest.State.choices, "state": request.GET.get("state", "")},
    )


@require_POST
@permission_required("customers.change_credit_terms", raise_exception=True)
def credit_request_decide(request, pk: int):
    """Approve (the values are applied to the customer) or reject (with a reason) a request."""
    credit_request = get_object_or_404(CreditChangeRequest.objects.select_related("customer"), pk=pk)
    form = CreditDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("customers:credit_request_list")
    action, note = form.cleaned_data["action"], form.cleaned_data["note"]
    try:
        if action == "approve":
            services.credit_request_approve(request=credit_request, by=request.user, note=note)
        else:
            services.credit_request_reject(request=credit_request, by=request.user, note=note)
    except DomainError as exc:
        if exc.code == "permission_denied":
            raise PermissionDenied(str(exc))
        messages.error(request, str(exc))
    else:
        if action == "approve":
            messages.success(
                request, _("The new credit terms of %(customer)s apply.") % {"customer": credit_request.customer.name}
            )
        else:
            messages.success(request, _("The request was rejected."))
    return redirect("customers:credit_request_list")

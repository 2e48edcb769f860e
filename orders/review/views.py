"""Pages of the review: the queue, the decision endpoints, the thresholds."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError
from config.http import redirect_back
from config.pagination import CappedPaginator
from orders.models import ReviewSettings, SalesOrder

from . import rules as review
from . import services as review_services
from .forms import ApproveForm, RejectForm, ReviewQueueFilter, ReviewSettingsForm

QUEUE_PAGE_SIZE = 25


@permission_required("orders.review_salesorder", raise_exception=True)
def review_queue(request):
    """Orders in review, oldest first, with the findings that sent them there."""
    filterset = ReviewQueueFilter(request.GET or None, queryset=review.order_review_queue())
    orders = filterset.qs if filterset.is_bound and filterset.is_valid() else review.order_review_queue()
    page = CappedPaginator(orders, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/salesorder_review_queue.html",
        {
            "page_obj": page,
            "filter": filterset,
            "reject_form": RejectForm(),
            "approve_form": ApproveForm(),
        },
    )


def _back(request, order: SalesOrder):
    """Back where the decision was made (queue or order page), else to the order."""
    try:
        fallback = order.get_absolute_url()
    except NoReverseMatch:  # the order pages are not installed in this deployment
        fallback = reverse("orders:review_queue")
    return redirect_back(request, fallback)


@require_POST
@permission_required("orders.review_salesorder", raise_exception=True)
def order_approve(request, pk: int):
    """Approve an order in review (never one the reviewer entered)."""
    order = get_object_or_404(SalesOrder, pk=pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(request, order)
    try:
        review_services.order_approve(order=order, by=request.user, note=form.cleaned_data["note"])
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Order %(number)s is approved.") % {"number": order.number})
    return _back(request, order)


@require_POST
@permission_required("orders.review_salesorder", raise_exception=True)
def order_reject(request, pk: int):
    """Reject an order in review with a reason (never one the reviewer entered)."""
    order = get_object_or_404(SalesOrder, pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(request, order)
    try:
        review_services.order_reject(order=order, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Order %(number)s is rejected and back with sales.") % {"number": order.number})
    return _back(request, order)


@permission_required("orders.change_reviewsettings", raise_exception=True)
def review_settings(request):
    """Managers change the thresholds and switches of the automatic checks."""
    current = ReviewSettings.current()
    form = ReviewSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            review_services.review_settings_update(values=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, _("The review settings are saved; orders submitted from now on use them."))
            return redirect("orders:review_settings")
    return render(request, "orders/reviewsettings_form.html", {"form": form, "settings_row": current})

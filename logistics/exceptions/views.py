"""Pages of delivery exceptions: the queue, one exception with its timeline, report by hand, resolve.
Each view checks the permission, parses, calls one service, redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from logistics.exceptions import services
from logistics.exceptions.forms import ExceptionFilter, ReportForm, ResolveForm
from logistics.exceptions.selectors import VIEW_PERMISSION, exceptions_visible
from logistics.models import EXCEPTION_PERMISSION, Shipment

PAGE_SIZE = 25


@permission_required(VIEW_PERMISSION, raise_exception=True)
def exception_list(request):
    """Delivery exceptions the user may see, open ones oldest first by default."""
    queryset = exceptions_visible(user=request.user).order_by("-state", "opened_at", "pk")
    filterset = ExceptionFilter(request.GET or None, queryset=queryset)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "logistics/exception_list.html", {"filter": filterset, "page_obj": page})


def _visible_exception(request, pk: int):
    return get_object_or_404(exceptions_visible(user=request.user), pk=pk)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def exception_detail(request, pk: int):
    """One exception: the shipment, how and when it was found, its timeline, and Resolve while open."""
    exception = _visible_exception(request, pk)
    context = {
        "exception": exception,
        "events": list(exception.events.select_related("by")),
        "replacements": list(exception.replacements.order_by("pk")),
        "can_resolve": exception.is_open and request.user.has_perm(EXCEPTION_PERMISSION),
    }
    return render(request, "logistics/exception_detail.html", context)


@permission_required(EXCEPTION_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.exception_resolve", form=True)
def exception_resolve(request, pk: int):
    """Choose the outcome and the units it covers, confirm: re-ship, request a refund or credit, or close."""
    exception = _visible_exception(request, pk)
    if not exception.is_open:
        messages.info(request, _("This exception is already resolved."))
        return redirect(exception)
    lines = services.exception_lines(exception=exception)
    form = ResolveForm(request.POST if request.method == "POST" else None, lines=lines)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                services.exception_resolve(
                    exception=exception,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    quantities=form.quantities(),
                    by=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("The exception on %(number)s is resolved.") % {"number": exception.shipment.number})
                return redirect(exception)
        status = 422
    return render(request, "logistics/exception_resolve.html", {"exception": exception, "form": form}, status=status)


@permission_required(EXCEPTION_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.exception_report", form=True)
def exception_report(request, shipment_id: int):
    """Warehouse staff report a shipment lost, damaged or refused."""
    shipment = get_object_or_404(Shipment.objects.select_related("order__customer", "carrier"), pk=shipment_id)
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                exception = services.exception_report(
                    shipment=shipment,
                    kind=form.cleaned_data["kind"],
                    since=form.cleaned_data["since"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Exception reported on %(number)s.") % {"number": shipment.number})
                return redirect(exception)
        status = 422
    return render(request, "logistics/exception_report.html", {"shipment": shipment, "form": form}, status=status)

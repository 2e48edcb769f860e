"""Pages of returns: list (with export), open from an order, detail with approve, reject, receive
and close, the return label PDF. Each view parses, calls one service, redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from logistics.exports import FORMATS, returns_export
from logistics.returns import services
from logistics.returns.documents import return_label_pdf
from logistics.returns.forms import RejectForm, ReturnFilter, ReturnOpenForm, ReturnReceiveForm
from logistics.returns.models import APPROVE_PERMISSION, OPEN_PERMISSION, RECEIVE_PERMISSION, ReturnRequest
from logistics.returns.selectors import RETURNABLE_ORDER_STATES, return_list, returnable_quantities
from orders.models import SalesOrder

ACTIONS = ["approve", "reject", "receive", "close"]
LIST_PAGE_SIZE = 25
VIEW_PERMISSION = "logistics.view_returnrequest"


@permission_required(VIEW_PERMISSION, raise_exception=True)
def return_list_view(request):
    """Returns, newest first, filtered by state and reason, searched by number, order or customer."""
    filterset = ReturnFilter(request.GET, queryset=return_list())
    page = CappedPaginator(filterset.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "logistics/return_list.html", {"filter": filterset, "page_obj": page})


@permission_required("logistics.export_returnrequest", raise_exception=True)
def return_export(request):
    """The filtered list as CSV (streamed) or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in FORMATS:
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    filterset = ReturnFilter(request.GET, queryset=return_list())
    if not filterset.is_valid():
        return JsonResponse({"error": _("The filters are not valid."), "fields": filterset.errors}, status=400)
    return returns_export(filterset.qs, export_format)


def _open_rows(order: SalesOrder) -> list[dict]:
    returnable = returnable_quantities(order=order)
    return [
        {"line": line, "returnable": returnable.get(line.pk, 0)}
        for line in order.lines.select_related("product").order_by("position", "pk")
        if returnable.get(line.pk, 0) > 0
    ]


@permission_required(OPEN_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.return_open", form=True)
def return_create(request, order_id: int):
    """Open a return for shipped units of the order: a quantity per line, a reason."""
    order = get_object_or_404(SalesOrder.objects.select_related("customer"), pk=order_id)
    if not services.return_may_open(order=order, actor=request.user):
        raise PermissionDenied
    rows = _open_rows(order) if order.status in RETURNABLE_ORDER_STATES else []
    form = ReturnOpenForm(request.POST if request.method == "POST" else None, rows=rows)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                return_request = services.return_open(
                    order=order,
                    quantities=form.quantities(),
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                    by=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Return %(number)s opened.") % {"number": return_request.number})
                return redirect(return_request)
        status = 422
    return render(request, "logistics/return_form.html", {"order": order, "form": form, "rows": form.bound_rows()}, status=status)


def _get_return(pk: int) -> ReturnRequest:
    return get_object_or_404(
        ReturnRequest.objects.select_related("order__customer", "order__shipping_address", "created_by"), pk=pk
    )


def _render_detail(request, return_request: ReturnRequest, *, receive_form=None, status=200):
    lines = list(return_request.lines.select_related("product", "order_line", "warehouse").order_by("pk"))
    allowed = allowed_transitions(return_request, request.user, ACTIONS)
    if "receive" in allowed and receive_form is None:
        receive_form = ReturnReceiveForm(lines=lines)
    context = {
        "return_request": return_request,
        "order": return_request.order,
        "lines": lines,
        "allowed": allowed,
        "receive_form": receive_form if "receive" in allowed else None,
        "replacements": list(return_request.replacement_shipments.order_by("pk")),
        "events": list(return_request.events.select_related("by")),
    }
    return render(request, "logistics/return_detail.html", context, status=status)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def return_detail(request, pk: int):
    """The return: lines, outcomes, replacement shipments, timeline and the actions its state allows."""
    return _render_detail(request, _get_return(pk))


@permission_required(APPROVE_PERMISSION, raise_exception=True)
@require_POST
def return_approve(request, pk: int):
    return_request = _get_return(pk)
    try:
        services.return_approve(return_request=return_request, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Return %(number)s approved: send the customer the return label.") % {"number": return_request.number}
        )
    return redirect(return_request)


@permission_required(APPROVE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def return_reject(request, pk: int):
    """Confirm with a reason, then reject the return."""
    return_request = _get_return(pk)
    form = RejectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_reject(return_request=return_request, note=form.cleaned_data["note"], by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Return %(number)s rejected.") % {"number": return_request.number})
        return redirect(return_request)
    return render(
        request,
        "logistics/return_reject.html",
        {"return_request": return_request, "form": form},
        status=422 if form.errors else 200,
    )


@permission_required(RECEIVE_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("logistics.return_receive", form=True)
def return_receive(request, pk: int):
    """The goods arrived: an outcome per line (restock into a warehouse, scrap, replace, refund)."""
    return_request = _get_return(pk)
    form = ReturnReceiveForm(request.POST, lines=list(return_request.lines.select_related("product").order_by("pk")))
    if submission_form_valid(request, form):
        try:
            services.return_receive(
                return_request=return_request, outcomes=form.outcomes(), note=form.cleaned_data["note"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Return %(number)s received.") % {"number": return_request.number})
            return redirect(return_request)
    return _render_detail(request, _get_return(pk), receive_form=form, status=422)


@permission_required(RECEIVE_PERMISSION, raise_exception=True)
@require_POST
def return_close(request, pk: int):
    return_request = _get_return(pk)
    try:
        services.return_close(return_request=return_request, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Return %(number)s closed.") % {"number": return_request.number})
    return redirect(return_request)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def return_label(request, pk: int):
    """The return label for the customer, as a PDF shown inline."""
    return_request = _get_return(pk)
    response = HttpResponse(return_label_pdf(return_request=return_request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{return_request.number}-label.pdf"'
    return response

"""Pages of transfers between warehouses: list, create, lines, ship, receive, cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from inventory.models import StockLevel
from inventory.transfers import services
from inventory.transfers.forms import (
    TransferCreateForm,
    TransferFilter,
    TransferLineForm,
    TransferReceiveForm,
    reason_field_name,
    received_field_name,
)
from inventory.transfers.models import StockTransfer

ACTIONS = ["ship", "receive", "cancel"]
LIST_PAGE_SIZE = 25


@permission_required("inventory.view_stocktransfer", raise_exception=True)
def transfer_list(request):
    """Transfers, newest first, filtered by warehouses and state."""
    filterset = TransferFilter(request.GET, queryset=services.transfer_list())
    page = CappedPaginator(filterset.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inventory/transfer_list.html", {"filter": filterset, "page_obj": page})


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("transfers.create", form=True)
def transfer_create(request):
    """Start a draft transfer between two warehouses."""
    form = TransferCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            transfer = services.transfer_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Transfer %(number)s is created; add its lines.") % {"number": transfer.number})
            return redirect(transfer)
    return render(request, "inventory/transfer_form.html", {"form": form})


def _get_transfer(pk: int) -> StockTransfer:
    return get_object_or_404(
        StockTransfer.objects.select_related("source", "destination", "created_by", "shipped_by", "received_by", "cancelled_by"),
        pk=pk,
    )


def _render_detail(request, transfer: StockTransfer, *, line_form=None, receive_form=None, status: int = 200):
    lines = list(services.transfer_lines(transfer=transfer))
    allowed = allowed_transitions(transfer, request.user, ACTIONS)
    can_edit_lines = transfer.is_draft and request.user.has_perm("inventory.transfer_stock")
    free = {}
    if transfer.is_draft:
        free = {
            level.product_id: level.available
            for level in StockLevel.objects.filter(
                warehouse=transfer.source_id, product_id__in=[line.product_id for line in lines]
            )
        }
    if "receive" in allowed and receive_form is None:
        receive_form = TransferReceiveForm(lines=lines)
    rows = []
    for line in lines:
        row = {"line": line, "free": free.get(line.product_id, 0)}
        if receive_form is not None:
            row["received"] = receive_form[received_field_name(line.pk)]
            row["reason"] = receive_form[reason_field_name(line.pk)]
        rows.append(row)
    context = {
        "transfer": transfer,
        "rows": rows,
        "allowed": allowed,
        "can_edit_lines": can_edit_lines,
        "events": services.transfer_events(transfer=transfer),
        "line_form": line_form or TransferLineForm(),
        "receive_form": receive_form,
        "lost_total": sum(line.lost_quantity or 0 for line in lines),
        "shipped_total": sum(line.quantity for line in lines),
    }
    return render(request, "inventory/transfer_detail.html", context, status=status)


@permission_required("inventory.view_stocktransfer", raise_exception=True)
def transfer_detail(request, pk: int):
    """The transfer, its lines, and the actions its state allows."""
    return _render_detail(request, _get_transfer(pk))


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_POST
def transfer_add_line(request, pk: int):
    """Add a product (by SKU or barcode) and a quantity to a draft."""
    transfer = _get_transfer(pk)
    form = TransferLineForm(request.POST)
    if form.is_valid():
        try:
            services.transfer_add_line(
                transfer=transfer, product=form.cleaned_data["product"], quantity=form.cleaned_data["quantity"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            return redirect(transfer)
    return _render_detail(request, transfer, line_form=form, status=422)


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_POST
def transfer_remove_line(request, pk: int, line_id: int):
    """Take a line off a draft."""
    transfer = _get_transfer(pk)
    try:
        services.transfer_remove_line(transfer=transfer, line_id=line_id, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(transfer)


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_POST
@submitted_once("transfers.ship")
def transfer_ship(request, pk: int):
    """Ship the draft: transfer out of the source, all lines or none."""
    transfer = _get_transfer(pk)
    try:
        services.transfer_ship(transfer=transfer, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Transfer %(number)s is shipped and in transit.") % {"number": transfer.number})
    return redirect(transfer)


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_POST
@submitted_once("transfers.receive")
def transfer_receive(request, pk: int):
    """Receive what arrived; a short line needs a reason and the rest is recorded as lost."""
    transfer = _get_transfer(pk)
    if not transfer.is_in_transit:
        messages.error(request, _("Transfer %(number)s is not in transit.") % {"number": transfer.number})
        return redirect(transfer)
    lines = list(services.transfer_lines(transfer=transfer))
    form = TransferReceiveForm(request.POST, lines=lines)
    if not form.is_valid():
        messages.error(request, _("Some received quantities are not valid; nothing was received."))
        return _render_detail(request, transfer, receive_form=form, status=422)
    received = {
        line.pk: services.ReceivedLine(
            quantity=form.cleaned_data[received_field_name(line.pk)], reason=form.cleaned_data[reason_field_name(line.pk)]
        )
        for line in lines
    }
    try:
        services.transfer_receive(transfer=transfer, received=received, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Transfer %(number)s is received.") % {"number": transfer.number})
    return redirect(transfer)


@permission_required("inventory.transfer_stock", raise_exception=True)
@require_POST
def transfer_cancel(request, pk: int):
    """Cancel a draft transfer."""
    transfer = _get_transfer(pk)
    try:
        services.transfer_cancel(transfer=transfer, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Transfer %(number)s is cancelled.") % {"number": transfer.number})
    return redirect(transfer)

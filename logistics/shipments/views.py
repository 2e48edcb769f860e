"""Warehouse pages of shipments: ready to pick, list, create from an order, detail with scanning,
pack, ship and cancel, and the three PDFs. Each view parses, calls one service, redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_fsm import can_proceed

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from inventory.models import Warehouse
from logistics.models import SHIP_PERMISSION, Shipment
from logistics.shipments import services
from logistics.shipments.documents import document_pdf
from logistics.shipments.forms import CancelForm, PackForm, PickForm, ScanForm, ShipForm, ShipmentFilter
from logistics.shipments.selectors import (
    pick_queue_page,
    pickable_quantities,
    queue_position,
    ready_to_pick_rows,
    shipment_list,
)
from logistics.tracking.services import shipment_confirm_delivery as shipment_confirm_delivery_service
from orders.models import SalesOrder

ACTIONS = ["start_picking", "pack", "ship", "cancel", "deliver"]
LIST_PAGE_SIZE = 25
QUEUE_PAGE_SIZE = 50
DOCUMENT_NAMES = {"pick_list": "pick-list", "packing_slip": "packing-slip", "label": "label"}


@permission_required("logistics.view_shipment", raise_exception=True)
def pick_queue(request):
    """Orders with reserved units no shipment holds yet, per warehouse, oldest approval first; paged by the orders
    before and after the page (?after= / ?before=), which stay right while the queue moves."""
    warehouse_id = queue_position(request.GET.get("warehouse"))  # an id, as the positions are
    page = pick_queue_page(
        size=QUEUE_PAGE_SIZE,
        warehouse_id=warehouse_id,
        after=queue_position(request.GET.get("after")),
        before=queue_position(request.GET.get("before")),
    )
    warehouses = Warehouse.objects.filter(is_active=True).order_by("priority", "code")
    context = {"page": page, "rows": ready_to_pick_rows(page.rows), "warehouses": warehouses, "warehouse_id": warehouse_id}
    return render(request, "logistics/pick_queue.html", context)


@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_list_view(request):
    """Shipments, newest first, filtered by state, carrier, warehouse, number or waybill."""
    filterset = ShipmentFilter(request.GET, queryset=shipment_list())
    page = CappedPaginator(filterset.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "logistics/shipment_list.html", {"filter": filterset, "page_obj": page})


def _pick_rows(order: SalesOrder, warehouse: Warehouse) -> list[dict]:
    pickable = pickable_quantities(order=order)
    return [
        {"line": line, "pickable": pickable[(line.pk, warehouse.pk)]}
        for line in order.lines.select_related("product").order_by("position", "pk")
        if pickable.get((line.pk, warehouse.pk))
    ]


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.shipment_create", form=True)
def shipment_create(request, order_id: int):
    """Pick (all or part of) what is reserved for the order in one warehouse: a new shipment."""
    order = get_object_or_404(SalesOrder.objects.select_related("customer"), pk=order_id)
    pickable = pickable_quantities(order=order)
    warehouse_ids = sorted({wh for (_line, wh) in pickable})
    requested = request.POST.get("warehouse") or request.GET.get("warehouse")
    warehouse_id = int(requested) if requested and requested.isdigit() else (warehouse_ids[0] if warehouse_ids else None)
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id else None
    rows = _pick_rows(order, warehouse) if warehouse else []
    form = PickForm(request.POST if request.method == "POST" else None, rows=rows)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form) and warehouse is not None:
            try:
                shipment = services.shipment_create(
                    order=order, warehouse=warehouse, quantities=form.quantities(), by=request.user
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Shipment %(number)s created: print the pick list.") % {"number": shipment.number})
                return redirect(shipment)
        status = 422
    context = {
        "order": order,
        "warehouse": warehouse,
        "warehouses": Warehouse.objects.filter(pk__in=warehouse_ids).order_by("priority", "code"),
        "form": form,
        "rows": form.bound_rows(),
    }
    return render(request, "logistics/shipment_form.html", context, status=status)


def _get_shipment(pk: int) -> Shipment:
    return get_object_or_404(
        Shipment.objects.select_related("order__customer", "order__shipping_address", "warehouse", "carrier", "created_by"), pk=pk
    )


def _render_detail(request, shipment: Shipment, *, scan_form=None, pack_form=None, ship_form=None, status=200, scan_error=""):
    parcels = list(shipment.parcels.select_related("carrier").prefetch_related("items__line__product").order_by("index"))
    may_ship = request.user.has_perm(SHIP_PERMISSION)
    # Scanning and packing happen while the state allows packing (or picking is still to start).
    can_scan = may_ship and (can_proceed(shipment.start_picking) or can_proceed(shipment.pack, check_conditions=False))
    can_ship_now = may_ship and can_proceed(shipment.ship, check_conditions=False)
    context = {
        "shipment": shipment,
        "order": shipment.order,
        "lines": list(shipment.lines.select_related("product", "order_line").order_by("pk")),
        "parcels": parcels,
        "events": list(shipment.events.select_related("by")),
        "tracking_events": list(shipment.tracking_events.select_related("parcel").order_by("-time", "-pk")),
        "allowed": allowed_transitions(shipment, request.user, ACTIONS),
        "can_scan": can_scan,
        "can_ship": can_ship_now,
        "scan_form": scan_form
        or (ScanForm(initial={"parcel": max([p.index for p in parcels], default=1)}) if can_scan else None),
        "pack_form": pack_form or (PackForm(parcels=parcels) if can_scan and parcels else None),
        "ship_form": ship_form or (ShipForm(parcels=parcels) if can_ship_now else None),
        "scan_error": scan_error,
    }
    return render(request, "logistics/shipment_detail.html", context, status=status)


@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_detail(request, pk: int):
    """The shipment: lines, parcels, timeline and the actions its state allows."""
    return _render_detail(request, _get_shipment(pk))


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
def shipment_start_picking(request, pk: int):
    shipment = _get_shipment(pk)
    try:
        services.shipment_start_picking(shipment=shipment, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(shipment)


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
def shipment_confirm_delivery(request, pk: int):
    """The warehouse confirms the delivery by hand (e.g. picked up by the customer); the timeline keeps who and when."""
    shipment = _get_shipment(pk)
    try:
        shipment_confirm_delivery_service(shipment=shipment, by=request.user, note=request.POST.get("note", "")[:500])
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Delivery of %(number)s confirmed.") % {"number": shipment.number})
    return redirect(shipment)


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("logistics.shipment_scan", form=True)
def shipment_scan(request, pk: int):
    """One scan: the product (barcode or SKU) goes into the parcel; a resent scan counts once."""
    shipment = _get_shipment(pk)
    form = ScanForm(request.POST)
    if submission_form_valid(request, form):
        try:
            result = services.shipment_scan(
                shipment=shipment,
                code=form.cleaned_data["code"],
                parcel_index=form.cleaned_data["parcel"],
                quantity=form.cleaned_data["quantity"],
                by=request.user,
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("%(sku)s: %(packed)s of %(total)s packed (parcel %(parcel)s).")
                % {
                    "sku": result.line.product.sku,
                    "packed": result.line.quantity_packed,
                    "total": result.line.quantity,
                    "parcel": result.parcel.index,
                },
            )
            return redirect(shipment)
    return _render_detail(request, _get_shipment(pk), scan_form=form, status=422)


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
def shipment_pack(request, pk: int):
    shipment = _get_shipment(pk)
    parcels = list(shipment.parcels.order_by("index"))
    form = PackForm(request.POST, parcels=parcels)
    if form.is_valid():
        data = form.cleaned_data
        given = [
            services.ParcelInput(
                index=p.index,
                weight_kg=data[f"weight_{p.index}"],
                length_cm=data.get(f"length_{p.index}"),
                width_cm=data.get(f"width_{p.index}"),
                height_cm=data.get(f"height_{p.index}"),
            )
            for p in parcels
        ]
        try:
            services.shipment_pack(shipment=shipment, parcels=given, by=request.user)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Shipment %(number)s is packed.") % {"number": shipment.number})
            return redirect(shipment)
    return _render_detail(request, _get_shipment(pk), pack_form=form, status=422)


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
def shipment_ship(request, pk: int):
    shipment = _get_shipment(pk)
    parcels = list(shipment.parcels.order_by("index"))
    form = ShipForm(request.POST, parcels=parcels)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.shipment_ship(
                shipment=shipment,
                carrier=data["carrier"],
                service=data["service"],
                waybills=form.waybills(),
                eta=data["eta"],
                insured_value=data["insured_value"] or 0,
                cod_amount=data["cod_amount"] or 0,
                by=request.user,
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Shipment %(number)s has shipped.") % {"number": shipment.number})
            return redirect(shipment)
    return _render_detail(request, _get_shipment(pk), ship_form=form, status=422)


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def shipment_cancel(request, pk: int):
    """Confirm, then cancel a shipment that has not left; its units stay reserved for the order."""
    shipment = _get_shipment(pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.shipment_cancel(shipment=shipment, note=form.cleaned_data["note"], by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Shipment %(number)s is cancelled.") % {"number": shipment.number})
        return redirect(shipment)
    return render(request, "logistics/shipment_cancel.html", {"shipment": shipment, "form": form})


@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_document(request, pk: int, kind: str):
    """The pick list, packing slips or labels of the shipment, as a PDF shown inline."""
    if kind not in DOCUMENT_NAMES:
        raise Http404
    shipment = _get_shipment(pk)
    response = HttpResponse(document_pdf(kind=kind, shipment=shipment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{shipment.number}-{DOCUMENT_NAMES[kind]}.pdf"'
    return response

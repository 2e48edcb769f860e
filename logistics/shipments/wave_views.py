"""Wave pages: make a wave from the orders ticked in the pick queue, the wave with its shipments,
and its combined pick list PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.documents import render_pdf
from config.errors import DomainError
from config.submissions import submitted_once
from inventory.models import Warehouse
from logistics.models import SHIP_PERMISSION
from logistics.shipments.wave_models import PickWave
from logistics.shipments.waves import wave_create as wave_create_service
from logistics.shipments.waves import wave_pick_rows

WAVE_PICK_LIST = "documents/wave_pick_list.html"


def _chosen(request) -> tuple[set[int], set[int]]:
    """The ticked queue rows, "order id:warehouse id" each: (order ids, warehouse ids)."""
    orders, warehouses = set(), set()
    for value in request.POST.getlist("pick"):
        order_id, _sep, warehouse_id = value.partition(":")
        if order_id.isdigit() and warehouse_id.isdigit():
            orders.add(int(order_id))
            warehouses.add(int(warehouse_id))
    return orders, warehouses


@permission_required(SHIP_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("logistics.wave_create")
def wave_create(request):
    """The ticked orders of one warehouse become one wave: a shipment each, picking started."""
    back = reverse("logistics:pick_queue") + (f"?warehouse={request.POST['warehouse']}" if request.POST.get("warehouse") else "")
    order_ids, warehouse_ids = _chosen(request)
    if not order_ids:
        messages.error(request, _("Tick the orders to pick in one wave."))
        return redirect(back)
    if len(warehouse_ids) > 1:
        messages.error(request, _("A wave is picked in one warehouse: filter the queue by warehouse first."))
        return redirect(back)
    warehouse = Warehouse.objects.filter(pk__in=warehouse_ids).first()
    if warehouse is None:
        messages.error(request, _("That warehouse does not exist."))
        return redirect(back)
    try:
        wave = wave_create_service(warehouse=warehouse, order_ids=order_ids, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(
        request,
        _("Wave %(number)s: %(count)s shipments created; print the pick list.")
        % {"number": wave.number, "count": wave.shipments.count()},
    )
    return redirect(wave)


def _get_wave(pk: int) -> PickWave:
    return get_object_or_404(PickWave.objects.select_related("warehouse", "created_by"), pk=pk)


@permission_required("logistics.view_shipment", raise_exception=True)
def wave_detail(request, pk: int):
    """The wave: its shipments (each packed and shipped on its own page) and the combined pick list."""
    wave = _get_wave(pk)
    shipments = list(wave.shipments.select_related("order__customer").order_by("order__number", "pk"))
    return render(request, "logistics/wave_detail.html", {"wave": wave, "shipments": shipments})


@permission_required("logistics.view_shipment", raise_exception=True)
def wave_pick_list(request, pk: int):
    """The wave's combined pick list, in bin order, as a PDF shown inline."""
    wave = _get_wave(pk)
    context = {"wave": wave, "rows": wave_pick_rows(wave=wave), "order_count": wave.shipments.count()}
    response = HttpResponse(render_pdf(WAVE_PICK_LIST, context, get_language()), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{wave.number}-pick-list.pdf"'
    return response

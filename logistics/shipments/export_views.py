"""The shipment list as a file: the same filters as the page, CSV streamed or XLSX."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.utils.translation import gettext as _

from logistics.exports import FORMATS, shipments_export
from logistics.shipments.forms import ShipmentFilter
from logistics.shipments.selectors import shipment_list


@permission_required("logistics.export_shipment", raise_exception=True)
def shipment_export(request):
    """The filtered shipments as CSV (streamed) or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in FORMATS:
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    filterset = ShipmentFilter(request.GET, queryset=shipment_list())
    if not filterset.is_valid():
        return JsonResponse({"error": _("The filters are not valid."), "fields": filterset.errors}, status=400)
    return shipments_export(filterset.qs, export_format)

"""The return label PDF the customer puts on the parcel: the RMA number as Code 128, where to send
it (the warehouse that shipped the order, else the company), the sender and what is inside."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language

from config.documents import render_document_html, render_pdf
from logistics.models import Shipment, ShipmentState
from logistics.returns.models import ReturnRequest
from logistics.shipments.documents import code128_svg, svg_data_uri

RETURN_LABEL = "documents/return_label.html"


@dataclass(frozen=True)
class ReturnAddress:
    name: str
    address: str
    phone: str = ""


def _return_to(return_request: ReturnRequest) -> ReturnAddress:
    shipped = (
        Shipment.objects.filter(order_id=return_request.order_id, state__in=[ShipmentState.SHIPPED, ShipmentState.DELIVERED])
        .select_related("warehouse")
        .order_by("shipped_at", "pk")
        .first()
    )
    if shipped is not None and shipped.warehouse.address:
        return ReturnAddress(name=f"{settings.COMPANY_NAME} · {shipped.warehouse.name}", address=shipped.warehouse.address)
    return ReturnAddress(name=settings.COMPANY_NAME, address=settings.COMPANY_ADDRESS, phone=settings.COMPANY_PHONE)


def return_label_context(*, return_request: ReturnRequest) -> dict:
    return_request = ReturnRequest.objects.select_related("order__customer", "order__shipping_address").get(pk=return_request.pk)
    return {
        "return_request": return_request,
        "order": return_request.order,
        "lines": list(return_request.lines.select_related("product").order_by("pk")),
        "barcode_uri": svg_data_uri(code128_svg(return_request.number)),
        "return_to": _return_to(return_request),
    }


def return_label_html(*, return_request: ReturnRequest, language: str | None = None) -> str:
    return render_document_html(RETURN_LABEL, return_label_context(return_request=return_request), language)


def return_label_pdf(*, return_request: ReturnRequest) -> bytes:
    """The return label in the reader's language."""
    return render_pdf(RETURN_LABEL, return_label_context(return_request=return_request), get_language())

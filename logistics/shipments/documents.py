"""The shipment's documents: pick list (by bin), packing slip per parcel (no prices) and shipping
label per parcel (Code 128 of the waybill, QR code of the tracking link), all through render_pdf."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import segno
from barcode import Code128
from barcode.writer import SVGWriter
from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language

from config.documents import render_document_html, render_pdf
from logistics.models import OrderTrackingToken, Parcel, Shipment
from logistics.shipments.selectors import pick_rows

PICK_LIST = "documents/shipment_pick_list.html"
PACKING_SLIP = "documents/shipment_packing_slip.html"
LABEL = "documents/shipment_label.html"


def code128_svg(value: str) -> str:
    """The Code 128 barcode of `value` as SVG text (python-barcode, pure Python)."""
    svg = Code128(value, writer=SVGWriter()).render(
        writer_options={"module_width": 0.3, "module_height": 14.0, "font_size": 9, "text_distance": 4.0, "quiet_zone": 3.0}
    )
    return svg.decode("utf-8")


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data URI (segno, pure Python)."""
    return segno.make(text, error="m").svg_data_uri(scale=3, border=2)


def _parcels(shipment: Shipment) -> list[Parcel]:
    return list(shipment.parcels.select_related("carrier").prefetch_related("items__line__product").order_by("index"))


def _shipment(shipment: Shipment) -> Shipment:
    return Shipment.objects.select_related("order__customer", "order__shipping_address", "warehouse", "carrier").get(
        pk=shipment.pk
    )


def pick_list_context(*, shipment: Shipment) -> dict:
    shipment = _shipment(shipment)
    return {"shipment": shipment, "rows": pick_rows(shipment=shipment)}


@dataclass
class LabelParcel:
    parcel: Parcel
    barcode_uri: str
    qr_uri: str
    tracking_url: str


def label_context(*, shipment: Shipment) -> dict:
    shipment = _shipment(shipment)
    labels = []
    token = OrderTrackingToken.objects.filter(order_id=shipment.order_id, revoked_at__isnull=True).first()
    page = settings.SITE_URL + reverse("tracking_page", args=[token.token]) if token else ""
    for parcel in _parcels(shipment):
        tracking = parcel.tracking_url
        labels.append(
            LabelParcel(
                parcel=parcel,
                barcode_uri=svg_data_uri(code128_svg(parcel.waybill_number)) if parcel.waybill_number else "",
                qr_uri=qr_data_uri(page or tracking) if (page or tracking) else "",
                tracking_url=tracking,
            )
        )
    return {"shipment": shipment, "order": shipment.order, "labels": labels, "parcel_total": len(labels)}


def packing_slip_context(*, shipment: Shipment) -> dict:
    shipment = _shipment(shipment)
    parcels = _parcels(shipment)
    return {"shipment": shipment, "order": shipment.order, "parcels": parcels, "parcel_total": len(parcels)}


DOCUMENTS = {
    "pick_list": (PICK_LIST, pick_list_context),
    "packing_slip": (PACKING_SLIP, packing_slip_context),
    "label": (LABEL, label_context),
}


def document_html(*, kind: str, shipment: Shipment, language: str | None = None) -> str:
    """The HTML of one of the shipment's documents (what the PDF is rendered from)."""
    template, context = DOCUMENTS[kind]
    return render_document_html(template, context(shipment=shipment), language)


def document_pdf(*, kind: str, shipment: Shipment) -> bytes:
    """The PDF of one of the shipment's documents, in the reader's language."""
    template, context = DOCUMENTS[kind]
    return render_pdf(template, context(shipment=shipment), get_language())

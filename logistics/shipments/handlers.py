"""Outbox handlers of shipments: run after the shipping transaction committed, safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.utils import translation

from config.actors import Actor
from logistics.models import Shipment, ShipmentEvent
from logistics.tracking.services import order_tracking_url

TEMPLATE = "shipment_shipped"


def email_customer_shipped(payload: dict) -> None:
    """The shipment left: e-mail the customer, in their language, its waybill numbers with the carrier's tracking links, once."""
    shipment_email_shipped(shipment_id=payload["id"])


def shipment_email_shipped(*, shipment_id: int) -> bool:
    """Send the “shipped” e-mail once (the shipment's timeline records it); False when there is no one to send it to."""
    shipment = (
        Shipment.objects.select_related("order__customer", "order__shipping_address", "carrier").filter(pk=shipment_id).first()
    )
    if shipment is None or shipment.shipped_at is None:
        return False
    customer = shipment.order.customer
    if not customer.email:
        return False
    if shipment.events.filter(kind=ShipmentEvent.Kind.EMAIL, params__template=TEMPLATE).exists():
        return False
    parcels = list(shipment.parcels.select_related("carrier").order_by("index"))
    lines = list(shipment.lines.select_related("order_line", "product").order_by("pk"))
    context = {
        "shipment": shipment,
        "order": shipment.order,
        "customer": customer,
        "parcels": parcels,
        "lines": lines,
        "tracking_page_url": order_tracking_url(order=shipment.order),
    }
    with translation.override(customer.language):
        subject = render_to_string(f"logistics/email/{TEMPLATE}_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"logistics/email/{TEMPLATE}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[customer.email],
        )
    mailers.default.send_messages([message])
    ShipmentEvent.record(
        shipment,
        kind=ShipmentEvent.Kind.EMAIL,
        actor=Actor.system("system"),
        params={"template": TEMPLATE, "email": customer.email},
    )
    return True

"""Tracking events from carriers (pushes, imports, by hand): stored once per parcel however often they
arrive; a signed "delivered" for every parcel delivers the shipment, and the last shipment the order."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.transitions import transition_apply
from logistics.exceptions.opening import exceptions_from_tracking
from logistics.models import (
    SHIP_PERMISSION,
    OrderTrackingToken,
    Parcel,
    Shipment,
    ShipmentEvent,
    ShipmentState,
    TrackingEvent,
    TrackingStatus,
    UnmatchedTrackingEvent,
    description_digest,
)
from orders.fulfilment.services import order_record_delivery
from orders.models import SalesOrder

# Kuaidi100's `state` codes → ours (4 is "refused / returned and signed by the sender").
KUAIDI100_STATES = {
    "0": TrackingStatus.IN_TRANSIT,
    "1": TrackingStatus.COLLECTED,
    "2": TrackingStatus.PROBLEM,
    "3": TrackingStatus.DELIVERED,
    "4": TrackingStatus.REFUSED,
    "5": TrackingStatus.OUT_FOR_DELIVERY,
    "6": TrackingStatus.RETURNING,
    "7": TrackingStatus.FORWARDED,
    "8": TrackingStatus.CUSTOMS,
    "14": TrackingStatus.REFUSED,
}

# AfterShip's `tag` values → ours.
AFTERSHIP_TAGS = {
    "InfoReceived": TrackingStatus.COLLECTED,
    "InTransit": TrackingStatus.IN_TRANSIT,
    "OutForDelivery": TrackingStatus.OUT_FOR_DELIVERY,
    "AttemptFail": TrackingStatus.PROBLEM,
    "Delivered": TrackingStatus.DELIVERED,
    "AvailableForPickup": TrackingStatus.OUT_FOR_DELIVERY,
    "Exception": TrackingStatus.PROBLEM,
    "Expired": TrackingStatus.PROBLEM,
    "Pending": TrackingStatus.COLLECTED,
}


@dataclass(frozen=True)
class EventInput:
    time: datetime
    status: str
    description: str = ""
    location: str = ""


@dataclass
class RecordResult:
    matched: bool
    stored: int


def _parcel_for(carrier_code: str, waybill: str) -> Parcel | None:
    parcels = Parcel.objects.filter(waybill_number=waybill).select_related("carrier", "shipment")
    if carrier_code:
        exact = [p for p in parcels if p.carrier and p.carrier.code == carrier_code]
        if exact:
            return exact[0]
    parcels = list(parcels)
    return parcels[0] if len(parcels) == 1 else None


@transaction.atomic
def tracking_record(*, carrier_code: str, waybill: str, events: Iterable[EventInput], source: str) -> RecordResult:
    """Store a carrier's events for a waybill (a full history merges: what is already stored is skipped);
    an unknown waybill's events are kept aside for review."""
    waybill = (waybill or "").strip()
    if not waybill:
        raise DomainError(_("The waybill number is missing."), code="no_waybill")
    events = list(events)
    for event in events:
        if event.status not in TrackingStatus.values:
            raise DomainError(_("Unknown tracking status “%(status)s”.") % {"status": event.status}, code="bad_status")
    parcel = _parcel_for(carrier_code, waybill)
    if parcel is None:
        rows = UnmatchedTrackingEvent.objects.bulk_create(
            [
                UnmatchedTrackingEvent(
                    carrier_code=carrier_code or "",
                    waybill_number=waybill[:60],
                    time=e.time,
                    location=e.location[:200],
                    status=e.status,
                    description=e.description,
                    description_hash=description_digest(e.description),
                    source=source,
                )
                for e in events
            ],
            ignore_conflicts=True,
        )
        return RecordResult(matched=False, stored=len(rows))
    # A full history repeats what is stored: an event is the same when its time and text are
    # (a replay may word its status differently, e.g. the newest event later reads "in transit").
    seen = set(parcel.tracking_events.values_list("time", "description_hash"))
    fresh = []
    for e in events:
        key = (e.time, description_digest(e.description))
        if key not in seen:
            seen.add(key)
            fresh.append(e)
    rows = TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                parcel=parcel,
                shipment_id=parcel.shipment_id,
                time=e.time,
                location=e.location[:200],
                status=e.status,
                description=e.description,
                description_hash=description_digest(e.description),
                source=source,
            )
            for e in fresh
        ],
        ignore_conflicts=True,
    )
    stored = len(rows)
    exceptions_from_tracking(parcel=parcel, events=fresh)
    if any(e.status == TrackingStatus.DELIVERED for e in events):
        _deliver_if_every_parcel_signed(parcel.shipment_id)
    return RecordResult(matched=True, stored=stored)


def _lock_order_then_shipment(shipment_id: int) -> Shipment:
    """The global lock order (DESIGN): the order row first, then the shipment."""
    order_id = Shipment.objects.values_list("order_id", flat=True).get(pk=shipment_id)
    list(SalesOrder.objects.select_for_update(of=("self",)).filter(pk=order_id).values_list("pk", flat=True))
    return Shipment.objects.select_for_update(of=("self",)).get(pk=shipment_id)


def _deliver_if_every_parcel_signed(shipment_id: int) -> None:
    shipment = _lock_order_then_shipment(shipment_id)
    if shipment.state not in (ShipmentState.SHIPPED, ShipmentState.EXCEPTION):
        return
    signed = TrackingEvent.objects.filter(parcel=OuterRef("pk"), status=TrackingStatus.DELIVERED)
    if shipment.parcels.filter(~Exists(signed)).exists():
        return
    actor = Actor.system("tracking")
    transition_apply(
        obj=shipment, transition="deliver", actor=actor, kind=ShipmentEvent.Kind.DELIVER, params={"how": "tracking"}, lock=False
    )
    _deliver_order_if_done(shipment.order_id, actor)


def deliver_order_if_done(order_id: int, actor: Actor) -> None:
    """When none of the order's shipments is still on its way, the order counts as delivered."""
    _deliver_order_if_done(order_id, actor)


def _deliver_order_if_done(order_id: int, actor: Actor) -> None:
    shipments = Shipment.objects.filter(order_id=order_id).exclude(state=ShipmentState.CANCELLED)
    if shipments.exclude(state__in=[ShipmentState.DELIVERED, ShipmentState.RETURNED, ShipmentState.LOST]).exists():
        return
    order_record_delivery(order=SalesOrder.objects.get(pk=order_id), by=actor)


@transaction.atomic
def shipment_confirm_delivery(*, shipment: Shipment, by, note: str = "") -> Shipment:
    """The warehouse confirms a delivery by hand (e.g. the customer picked it up); who and when are kept."""
    actor = Actor.of(by)
    if not actor.has_perm(SHIP_PERMISSION):
        raise PermissionRefused(_("You are not allowed to confirm deliveries."))
    locked = _lock_order_then_shipment(shipment.pk)
    shipment = transition_apply(
        obj=locked,
        transition="deliver",
        actor=actor,
        kind=ShipmentEvent.Kind.DELIVER,
        params={"how": "hand"},
        note=note,
        lock=False,
    )
    _deliver_order_if_done(shipment.order_id, actor)
    return shipment


def order_tracking_token(*, order: SalesOrder) -> OrderTrackingToken:
    """The order's public tracking token, created the first time it is needed (≥128 bits, URL-safe)."""
    token, _created = OrderTrackingToken.objects.get_or_create(order=order, defaults={"token": secrets.token_urlsafe(24)})
    if token.revoked_at is not None:
        token.token, token.revoked_at = secrets.token_urlsafe(24), None
        token.save(update_fields=["token", "revoked_at"])
    return token


def order_tracking_url(*, order: SalesOrder) -> str:
    """The absolute link of the order's public tracking page (a token is made if needed)."""
    return settings.SITE_URL + reverse("tracking_page", args=[order_tracking_token(order=order).token])


def order_tracking_token_revoke(*, order: SalesOrder, by) -> None:
    """The public link stops working; a new one is made the next time one is needed."""
    actor = Actor.of(by)
    if not actor.has_perm(SHIP_PERMISSION):
        raise PermissionRefused(_("You are not allowed to revoke tracking links."))
    OrderTrackingToken.objects.filter(order=order, revoked_at__isnull=True).update(revoked_at=timezone.now())

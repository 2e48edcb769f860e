"""Opening a delivery exception, whoever finds it (the late check, a carrier's push, a person).

Kept apart from the resolving services so tracking can open exceptions without importing the
shipment services that re-ship goods. Lock order (DESIGN): the order row → the shipment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from config.actors import Actor
from config.outbox import outbox_publish
from config.transitions import transition_apply
from logistics.exceptions.models import DeliveryException, DeliveryExceptionEvent, DetectedBy, ExceptionKind, ExceptionState
from logistics.models import Parcel, Shipment, ShipmentEvent, ShipmentState, TrackingEvent, TrackingStatus, description_digest
from orders.models import SalesOrder

OPENED_TOPIC = "logistics.shipment_exception_opened"
# Carrier statuses that open an exception, and which kind.
TRACKING_KINDS = {
    TrackingStatus.PROBLEM: ExceptionKind.PROBLEM,
    TrackingStatus.REFUSED: ExceptionKind.REFUSED,
    TrackingStatus.RETURNING: ExceptionKind.RETURNING,
}
# A shipment on its way (or already waiting in exception) may get a new exception; a delivered one
# only for goods found damaged.
OPEN_ON = {ShipmentState.SHIPPED, ShipmentState.EXCEPTION}


def lock_order_then_shipment(shipment_id: int) -> Shipment:
    """The global lock order: the order row first, then the shipment."""
    order_id = Shipment.objects.values_list("order_id", flat=True).get(pk=shipment_id)
    list(SalesOrder.objects.select_for_update(of=("self",)).filter(pk=order_id).values_list("pk", flat=True))
    return Shipment.objects.select_for_update(of=("self",)).select_related("order").get(pk=shipment_id)


def may_open(shipment: Shipment, kind: str) -> bool:
    return shipment.state in OPEN_ON or (kind == ExceptionKind.DAMAGED and shipment.state == ShipmentState.DELIVERED)


@transaction.atomic
def exception_open_locked(
    *,
    shipment: Shipment,
    kind: str,
    detected_by: str,
    since: datetime,
    actor: Actor,
    note: str = "",
    tracking_event: TrackingEvent | None = None,
) -> DeliveryException | None:
    """Open an exception on a shipment the caller has locked (order first); None when one of this
    kind is already open or the shipment's state allows none. A shipment on its way waits in `exception`."""
    if not may_open(shipment, kind):
        return None
    if DeliveryException.objects.filter(shipment=shipment, kind=kind, state=ExceptionState.OPEN).exists():
        return None
    exception = DeliveryException.objects.create(
        shipment=shipment,
        order_id=shipment.order_id,
        kind=kind,
        detected_by=detected_by,
        since=since,
        opened_by=actor.user_or_none,
        note=(note or "").strip(),
        tracking_event=tracking_event,
    )
    DeliveryExceptionEvent.record(
        exception, kind=DeliveryExceptionEvent.Kind.OPENED, actor=actor, params={"kind": kind, "how": detected_by}, note=note
    )
    params = {"kind": kind, "exception": exception.pk}
    if shipment.state == ShipmentState.SHIPPED:
        transition_apply(
            obj=shipment, transition="report_exception", actor=actor, kind=ShipmentEvent.Kind.EXCEPTION, params=params, lock=False
        )
    else:
        ShipmentEvent.record(shipment, kind=ShipmentEvent.Kind.EXCEPTION, actor=actor, params=params)
    outbox_publish(
        topic=OPENED_TOPIC,
        payload={
            "exception": exception.pk,
            "shipment": shipment.pk,
            "shipment_number": shipment.number,
            "order": shipment.order_id,
            "order_number": shipment.order.number,
            "kind": kind,
        },
    )
    return exception


def exceptions_from_tracking(*, parcel: Parcel, events: Iterable) -> list[DeliveryException]:
    """Carrier events stored for the first time with a problem, refused or returning status open an
    exception of that kind (once: a replayed push stores nothing new, and one of a kind stays open
    until resolved). An event older than a "delivered" one is history, not news."""
    newest: dict[str, object] = {}
    for event in events:
        kind = TRACKING_KINDS.get(event.status)
        if kind is not None and (kind not in newest or event.time > newest[kind].time):
            newest[kind] = event
    if not newest:
        return []
    delivered_at = (
        TrackingEvent.objects.filter(parcel=parcel, status=TrackingStatus.DELIVERED)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )
    shipment = lock_order_then_shipment(parcel.shipment_id)
    actor = Actor.system("tracking")
    opened = []
    for kind, event in newest.items():
        if delivered_at is not None and event.time <= delivered_at:
            continue
        stored = TrackingEvent.objects.filter(
            parcel=parcel, time=event.time, description_hash=description_digest(event.description)
        ).first()
        found = exception_open_locked(
            shipment=shipment,
            kind=kind,
            detected_by=DetectedBy.TRACKING,
            since=event.time,
            actor=actor,
            tracking_event=stored,
        )
        if found is not None:
            opened.append(found)  # the shipment (in memory too) now waits in `exception`
    return opened

"""Carrier events for waybill numbers nobody knew, kept aside: warehouse staff assign them to a
parcel (then they count like any other event of it) or dismiss them."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from logistics.models import Parcel, UnmatchedOutcome, UnmatchedTrackingEvent
from logistics.tracking.services import EventInput, tracking_record

REVIEW_PERMISSION = "logistics.change_unmatchedtrackingevent"


def _require_reviewer(actor: Actor) -> None:
    if not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionRefused(_("You are not allowed to review unmatched tracking events."))


def unmatched_list(*, state: str = "open", text: str = "") -> QuerySet[UnmatchedTrackingEvent]:
    """Events kept aside: still to review (open), assigned, dismissed or all; searched by waybill or carrier."""
    found = UnmatchedTrackingEvent.objects.select_related("parcel__shipment", "resolved_by")
    if state == "open":
        found = found.filter(resolved_at__isnull=True)
    elif state in UnmatchedOutcome.values:
        found = found.filter(outcome=state)
    text = (text or "").strip()
    if text:
        found = found.filter(Q(waybill_number__icontains=text) | Q(carrier_code__icontains=text))
    return found.order_by("-received_at", "-pk")


def parcel_by_waybill(*, waybill: str, carrier_code: str = "") -> Parcel | None:
    """The shipped parcel with this waybill number (the carrier's own when several carriers used it)."""
    parcels = list(Parcel.objects.filter(waybill_number=(waybill or "").strip().upper()).select_related("carrier", "shipment"))
    if carrier_code:
        exact = [p for p in parcels if p.carrier and p.carrier.code == carrier_code]
        if len(exact) == 1:
            return exact[0]
    return parcels[0] if len(parcels) == 1 else None


def siblings(event: UnmatchedTrackingEvent) -> QuerySet[UnmatchedTrackingEvent]:
    """The open events kept aside for the same waybill (assigned together)."""
    return UnmatchedTrackingEvent.objects.filter(
        resolved_at__isnull=True, waybill_number=event.waybill_number, carrier_code=event.carrier_code
    ).order_by("time", "pk")


@transaction.atomic
def unmatched_assign(*, event: UnmatchedTrackingEvent, waybill: str, by) -> tuple[Parcel, int]:
    """Apply the open events of this waybill to the parcel with the given waybill number, as if the
    carrier had sent them for it (stored once, a delivery delivers); returns the parcel and how many were new."""
    actor = Actor.of(by)
    _require_reviewer(actor)
    locked = UnmatchedTrackingEvent.objects.select_for_update().filter(pk=event.pk).first()
    if locked is None or locked.resolved_at is not None:
        raise DomainError(_("This event was already reviewed."), code="already_reviewed")
    parcel = parcel_by_waybill(waybill=waybill or locked.waybill_number, carrier_code=locked.carrier_code)
    if parcel is None:
        raise DomainError(
            _("No shipped parcel has the waybill number “%(number)s”.") % {"number": (waybill or locked.waybill_number)[:60]},
            code="unknown_waybill",
            field="waybill",
        )
    events = list(siblings(locked).select_for_update())
    result = tracking_record(
        carrier_code=parcel.carrier.code,
        waybill=parcel.waybill_number,
        events=[EventInput(time=e.time, status=e.status, description=e.description, location=e.location) for e in events],
        source=locked.source,
    )
    UnmatchedTrackingEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        resolved_at=timezone.now(), outcome=UnmatchedOutcome.ASSIGNED, resolved_by=actor.user_or_none, parcel=parcel
    )
    return parcel, result.stored


@transaction.atomic
def unmatched_dismiss(*, event: UnmatchedTrackingEvent, by) -> UnmatchedTrackingEvent:
    """The event is not ours (a mistyped number, another company's parcel): it leaves the review list."""
    actor = Actor.of(by)
    _require_reviewer(actor)
    locked = UnmatchedTrackingEvent.objects.select_for_update().filter(pk=event.pk).first()
    if locked is None or locked.resolved_at is not None:
        raise DomainError(_("This event was already reviewed."), code="already_reviewed")
    locked.resolved_at = timezone.now()
    locked.outcome = UnmatchedOutcome.DISMISSED
    locked.resolved_by = actor.user_or_none
    locked.save(update_fields=["resolved_at", "outcome", "resolved_by"])
    return locked

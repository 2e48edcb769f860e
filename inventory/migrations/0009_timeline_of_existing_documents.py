"""Give counts, transfers and replenishment requests made before timelines existed the events their
stamps tell (opened/created, posted, shipped, received, ordered, cancelled), at the stamped time and
by the stamped user. A cancelled count's reason becomes its event's note (what a person typed)."""

from django.db import migrations
from django.db.models import Q, Sum


def _event(Event, subject_field, subject, *, kind, at, by_id, params=None, from_state="", to_state="", note=""):
    return Event(
        **{subject_field: subject},
        kind=kind,
        at=at,
        by_id=by_id,
        actor_kind="user",  # who acted is known only where the document stamped it
        actor_name="",
        params=params or {},
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _stamped(Event):
    """The historical model stamps `at` itself on insert; here the time comes from the document."""
    Event._meta.get_field("at").auto_now_add = False


def forwards(apps, schema_editor):
    StockCount = apps.get_model("inventory", "StockCount")
    StockCountEvent = apps.get_model("inventory", "StockCountEvent")
    StockTransfer = apps.get_model("inventory", "StockTransfer")
    StockTransferEvent = apps.get_model("inventory", "StockTransferEvent")
    ReplenishmentRequest = apps.get_model("inventory", "ReplenishmentRequest")
    ReplenishmentEvent = apps.get_model("inventory", "ReplenishmentEvent")
    for Event in (StockCountEvent, StockTransferEvent, ReplenishmentEvent):
        _stamped(Event)

    events = []
    for count in StockCount.objects.exclude(events__isnull=False).order_by("pk"):
        events.append(
            _event(
                StockCountEvent, "count", count, kind="created", at=count.opened_at, by_id=count.opened_by_id,
                params={"lines": count.line_count}, to_state="open",
            )
        )
        if count.posted_at:
            adjusted = count.lines.filter(adjustment_quantity__isnull=False).exclude(adjustment_quantity=0)
            figures = adjusted.aggregate(
                over=Sum("adjustment_quantity", filter=Q(adjustment_quantity__gt=0)),
                short=Sum("adjustment_quantity", filter=Q(adjustment_quantity__lt=0)),
            )
            events.append(
                _event(
                    StockCountEvent, "count", count, kind="post", at=count.posted_at, by_id=count.posted_by_id,
                    params={"lines": adjusted.count(), "over": figures["over"] or 0, "short": -(figures["short"] or 0)},
                    from_state="counting", to_state="posted",
                )
            )
        if count.cancelled_at:
            events.append(
                _event(
                    StockCountEvent, "count", count, kind="cancel", at=count.cancelled_at, by_id=count.cancelled_by_id,
                    to_state="cancelled", note=count.cancel_reason,
                )
            )
    StockCountEvent.objects.bulk_create(events)

    events = []
    for transfer in StockTransfer.objects.exclude(events__isnull=False).select_related("source", "destination").order_by("pk"):
        events.append(
            _event(
                StockTransferEvent, "transfer", transfer, kind="created", at=transfer.created_at, by_id=transfer.created_by_id,
                params={"source": transfer.source.code, "destination": transfer.destination.code}, to_state="draft",
            )
        )
        quantities = list(transfer.lines.values_list("quantity", "received_quantity"))
        shipped = sum(quantity for quantity, _received in quantities)
        if transfer.shipped_at:
            events.append(
                _event(
                    StockTransferEvent, "transfer", transfer, kind="ship", at=transfer.shipped_at, by_id=transfer.shipped_by_id,
                    params={"source": transfer.source.code, "lines": len(quantities), "units": shipped},
                    from_state="draft", to_state="shipped",
                )
            )
        if transfer.received_at:
            received = sum(received or 0 for _quantity, received in quantities)
            events.append(
                _event(
                    StockTransferEvent, "transfer", transfer, kind="receive", at=transfer.received_at,
                    by_id=transfer.received_by_id, params={"shipped": shipped, "received": received, "lost": shipped - received},
                    from_state="shipped", to_state="received",
                )
            )
        if transfer.cancelled_at:
            events.append(
                _event(
                    StockTransferEvent, "transfer", transfer, kind="cancel", at=transfer.cancelled_at,
                    by_id=transfer.cancelled_by_id, from_state="draft", to_state="cancelled",
                )
            )
    StockTransferEvent.objects.bulk_create(events)

    events = []
    for request in ReplenishmentRequest.objects.exclude(events__isnull=False).select_related("warehouse").order_by("pk"):
        events.append(
            _event(
                ReplenishmentEvent, "request", request, kind="created", at=request.created_at, by_id=request.created_by_id,
                params={"lines": request.lines.count(), "warehouse": request.warehouse.code, "from_proposal": False},
                to_state="draft",
            )
        )
        if request.ordered_at:
            events.append(
                _event(
                    ReplenishmentEvent, "request", request, kind="place", at=request.ordered_at, by_id=None,
                    params={"supplier": request.supplier}, from_state="draft", to_state="ordered",
                )
            )
        if request.received_at:
            events.append(
                _event(ReplenishmentEvent, "request", request, kind="receive", at=request.received_at, by_id=None, to_state="received")
            )
        elif request.state == "cancelled":
            events.append(
                _event(ReplenishmentEvent, "request", request, kind="cancel", at=request.updated_at, by_id=None, to_state="cancelled")
            )
    ReplenishmentEvent.objects.bulk_create(events)


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0008_timelines"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

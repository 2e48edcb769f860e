"""Every write of a delivery exception: reported by hand, found late by the beat task, resolved with
an outcome (re-ship, refund or credit, close with a note), escalated to managers when it stays open.

Lock order (DESIGN): the order row → the shipment → the exception → reservations → stock levels →
number counter. Opening lives in opening.py (tracking opens exceptions too)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.notifications import notification_send
from config.numbering import document_number
from config.outbox import outbox_publish
from config.roles import MANAGER
from config.transitions import transition_apply
from inventory.models import Warehouse
from logistics.exceptions.models import (
    DeliveryException,
    DeliveryExceptionEvent,
    DetectedBy,
    ExceptionKind,
    ExceptionOutcome,
    ExceptionState,
)
from logistics.exceptions.opening import exception_open_locked, lock_order_then_shipment
from logistics.models import EXCEPTION_PERMISSION, Shipment, ShipmentEvent, ShipmentLine, ShipmentState
from logistics.tracking.services import deliver_order_if_done
from orders.fulfilment.services import order_reserve_replacement

REFUND_TOPIC = "logistics.exception_refund_requested"
# What warehouse staff may report by hand (late is the beat task's, carrier problems tracking's).
HAND_KINDS = [ExceptionKind.LOST, ExceptionKind.DAMAGED, ExceptionKind.REFUSED]
MAX_NOTE = 2000


def _require_resolver(actor: Actor) -> None:
    if not actor.has_perm(EXCEPTION_PERMISSION):
        raise PermissionRefused(_("You are not allowed to report or resolve delivery exceptions."))


@transaction.atomic
def exception_report(*, shipment: Shipment, kind: str, by, note: str = "", since: datetime | None = None) -> DeliveryException:
    """Warehouse staff report a shipment lost, damaged or refused (e.g. the customer called)."""
    actor = Actor.of(by)
    _require_resolver(actor)
    if kind not in HAND_KINDS:
        raise DomainError(_("Choose lost, damaged or refused."), code="bad_kind", field="kind")
    locked = lock_order_then_shipment(shipment.pk)
    now = timezone.now()
    if since is not None and since > now:
        raise DomainError(_("“Since” cannot be in the future."), code="future", field="since")
    found = exception_open_locked(
        shipment=locked,
        kind=kind,
        detected_by=DetectedBy.HAND,
        since=since or now,
        actor=actor,
        note=(note or "").strip()[:MAX_NOTE],
    )
    if found is None:
        if DeliveryException.objects.filter(shipment=locked, kind=kind, state=ExceptionState.OPEN).exists():
            raise DomainError(
                _("Shipment %(number)s already has an open “%(kind)s” exception.")
                % {"number": locked.number, "kind": dict(ExceptionKind.choices)[kind]},
                code="already_open",
            )
        raise DomainError(
            _("Shipment %(number)s is %(state)s: no exception can be reported on it.")
            % {"number": locked.number, "state": locked.get_state_display()},
            code="not_on_its_way",
        )
    return found


def late_shipments():
    """Shipped shipments whose ETA passed without delivery and that never had a "late" exception."""
    had_late = DeliveryException.objects.filter(shipment=OuterRef("pk"), kind=ExceptionKind.LATE)
    return (
        Shipment.objects.filter(state=ShipmentState.SHIPPED, eta__lt=timezone.localdate())
        .exclude(Exists(had_late))
        .order_by("pk")
    )


def exceptions_open_late() -> list[DeliveryException]:
    """The beat task: each shipment past its ETA gets one "late" exception (running it twice opens none more).
    Each shipment in its own transaction, re-checked under its lock."""
    opened = []
    for shipment_id in list(late_shipments().values_list("pk", flat=True)):
        found = _open_late(shipment_id)
        if found is not None:
            opened.append(found)
    return opened


@transaction.atomic
def _open_late(shipment_id: int) -> DeliveryException | None:
    shipment = lock_order_then_shipment(shipment_id)
    if not late_shipments().filter(pk=shipment_id).exists():
        return None  # delivered or reported meanwhile
    since = timezone.make_aware(datetime.combine(shipment.eta + timedelta(days=1), time.min))
    return exception_open_locked(
        shipment=shipment, kind=ExceptionKind.LATE, detected_by=DetectedBy.BEAT, since=since, actor=Actor.system("system")
    )


def exceptions_escalate() -> int:
    """Exceptions open longer than DELIVERY_EXCEPTION_ESCALATE_DAYS are told to the managers, once each."""
    days = settings.DELIVERY_EXCEPTION_ESCALATE_DAYS
    due = DeliveryException.objects.filter(
        state=ExceptionState.OPEN, escalated_at__isnull=True, opened_at__lte=timezone.now() - timedelta(days=days)
    )
    count = 0
    for exception_id in list(due.order_by("pk").values_list("pk", flat=True)):
        count += _escalate(exception_id, days)
    return count


@transaction.atomic
def _escalate(exception_id: int, days: int) -> int:
    exception = DeliveryException.objects.select_for_update(of=("self",)).select_related("shipment", "order").get(pk=exception_id)
    if exception.state != ExceptionState.OPEN or exception.escalated_at is not None:
        return 0
    exception.escalated_at = timezone.now()
    exception.save(update_fields=["escalated_at"])
    DeliveryExceptionEvent.record(
        exception, kind=DeliveryExceptionEvent.Kind.ESCALATED, actor=Actor.system("system"), params={"days": days}
    )
    managers = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).distinct().values_list("pk", flat=True)
    notification_send(
        recipient_ids=list(managers),
        text=gettext_noop("Delivery exception on %(shipment)s (order %(order)s) has been open for more than %(days)s days."),
        params={"shipment": exception.shipment.number, "order": exception.order.number, "days": days},
        url=exception.get_absolute_url(),
    )
    return 1


@dataclass(frozen=True)
class AffectedLine:
    """One line of the shipment an outcome may cover."""

    order_line_id: int
    sku: str
    name: str
    shipped: int


def exception_lines(*, exception: DeliveryException) -> list[AffectedLine]:
    """The shipment's lines, what re-shipping or refunding may cover."""
    return [
        AffectedLine(order_line_id=line.order_line_id, sku=line.product.sku, name=line.product.name, shipped=line.quantity)
        for line in ShipmentLine.objects.filter(shipment_id=exception.shipment_id).select_related("product").order_by("pk")
    ]


def _clean_quantities(exception: DeliveryException, quantities: Mapping[int, int] | None) -> list[list]:
    allowed = {line.order_line_id: line for line in exception_lines(exception=exception)}
    chosen = []
    for line_id, qty in (quantities or {}).items():
        line_id, qty = int(line_id), int(qty or 0)
        if not qty:
            continue
        line = allowed.get(line_id)
        if line is None:
            raise DomainError(_("That line is not on shipment %(number)s.") % {"number": exception.shipment.number})
        if qty < 0 or qty > line.shipped:
            raise DomainError(
                _("%(sku)s: %(shipped)s shipped on this shipment; %(qty)s is not possible.")
                % {"sku": line.sku, "shipped": line.shipped, "qty": qty},
                code="bad_quantity",
            )
        chosen.append([line_id, line.sku, qty])
    if not chosen:
        raise DomainError(_("Give the units this outcome covers."), code="no_lines")
    return chosen


def _create_replacements(exception: DeliveryException, lines: list[list], actor: Actor) -> list[Shipment]:
    """Reserve the units again (the order's services) and draft one shipment per warehouse they come from."""
    reserved = order_reserve_replacement(order=exception.order, quantities={pk: qty for pk, _sku, qty in lines}, by=actor)
    per_warehouse: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line_id, takes in reserved.items():
        for code, qty in takes:
            per_warehouse[code][line_id] += qty
    products = dict(ShipmentLine.objects.filter(shipment_id=exception.shipment_id).values_list("order_line_id", "product_id"))
    warehouses = {w.code: w for w in Warehouse.objects.filter(code__in=list(per_warehouse))}
    made = []
    for code in sorted(per_warehouse):
        quantities = per_warehouse[code]
        shipment = Shipment.objects.create(
            number=document_number("shipment"),
            order_id=exception.order_id,
            warehouse=warehouses[code],
            created_by=actor.user_or_none,
            line_count=len(quantities),
            unit_count=sum(quantities.values()),
            replacement_for=exception,
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=line_id, product_id=products[line_id], quantity=qty)
            for line_id, qty in quantities.items()
        )
        ShipmentEvent.record(
            shipment,
            kind=ShipmentEvent.Kind.CREATED,
            actor=actor,
            params={"order": exception.order.number, "units": shipment.unit_count},
        )
        made.append(shipment)
    return made


# What becomes of the shipment when its last open exception is settled: (kind, outcome) → transition.
def _settling_transition(kind: str, outcome: str) -> str | None:
    if outcome == ExceptionOutcome.DELIVERED:
        return None
    if kind == ExceptionKind.DAMAGED:
        return "deliver"  # the goods did arrive, damaged
    if kind in (ExceptionKind.REFUSED, ExceptionKind.RETURNING):
        return "mark_returned"
    if kind == ExceptionKind.LOST or outcome in (ExceptionOutcome.RESHIP, ExceptionOutcome.REFUND):
        return "write_off"
    return "clear_exception"  # late or a carrier problem closed with a note: still on its way


def _settle_shipment(shipment: Shipment, exception: DeliveryException, actor: Actor) -> None:
    if shipment.state != ShipmentState.EXCEPTION:
        return
    if DeliveryException.objects.filter(shipment=shipment, state=ExceptionState.OPEN).exists():
        return  # another exception still holds it
    name = _settling_transition(exception.kind, exception.outcome)
    if name is None:
        return
    transition_apply(
        obj=shipment,
        transition=name,
        actor=actor,
        kind=ShipmentEvent.Kind.DELIVER if name == "deliver" else ShipmentEvent.Kind.EXCEPTION_SETTLED,
        params={"how": "hand"} if name == "deliver" else {"outcome": exception.outcome, "exception": exception.pk},
        lock=False,
    )
    if shipment.state != ShipmentState.SHIPPED:
        deliver_order_if_done(shipment.order_id, actor)


@transaction.atomic
def exception_resolve(
    *, exception: DeliveryException, outcome: str, by, note: str = "", quantities: Mapping[int, int] | None = None
) -> DeliveryException:
    """Settle an open exception: re-ship the affected units from stock (a new shipment), hand a refund or
    credit request to billing, or close it with a note. The shipment leaves `exception` with the last one."""
    actor = Actor.of(by)
    _require_resolver(actor)
    note = (note or "").strip()[:MAX_NOTE]
    if outcome not in (ExceptionOutcome.RESHIP, ExceptionOutcome.REFUND, ExceptionOutcome.CLOSE):
        raise DomainError(_("Choose how the exception is resolved."), code="bad_outcome", field="outcome")
    if outcome == ExceptionOutcome.CLOSE and not note:
        raise DomainError(_("Say why the exception is closed."), code="note_missing", field="note")
    shipment = lock_order_then_shipment(exception.shipment_id)
    locked = DeliveryException.objects.select_for_update(of=("self",)).select_related("order", "shipment").get(pk=exception.pk)
    if locked.state != ExceptionState.OPEN:
        raise DomainError(_("This exception is already resolved."), code="already_resolved")
    lines = _clean_quantities(locked, quantities) if outcome != ExceptionOutcome.CLOSE else []
    params: dict = {"outcome": outcome, "lines": lines}
    if outcome == ExceptionOutcome.RESHIP:
        params["shipments"] = [s.number for s in _create_replacements(locked, lines, actor)]
    locked.outcome = outcome
    locked.lines = lines
    locked.resolution_note = note
    locked.resolved_by = actor.user_or_none
    locked = transition_apply(
        obj=locked,
        transition="resolve",
        actor=actor,
        kind=DeliveryExceptionEvent.Kind.RESOLVE,
        params=params,
        note=note,
        lock=False,
    )
    if outcome == ExceptionOutcome.REFUND:
        outbox_publish(
            topic=REFUND_TOPIC,
            payload={
                "exception": locked.pk,
                "order": locked.order_id,
                "order_number": locked.order.number,
                "shipment": locked.shipment_id,
                "shipment_number": locked.shipment.number,
                "lines": [{"order_line": line_id, "sku": sku, "quantity": qty} for line_id, sku, qty in lines],
            },
        )
    _settle_shipment(shipment, locked, actor)
    return locked


def exceptions_resolve_delivered(*, shipment_id: int) -> int:
    """The shipment was delivered after all: its open exceptions are settled as delivered."""
    actor = Actor.system("tracking")
    count = 0
    with transaction.atomic():
        lock_order_then_shipment(shipment_id)
        for exception in (
            DeliveryException.objects.select_for_update(of=("self",))
            .filter(shipment_id=shipment_id, state=ExceptionState.OPEN)
            .order_by("pk")
        ):
            exception.outcome = ExceptionOutcome.DELIVERED
            transition_apply(
                obj=exception,
                transition="resolve",
                actor=actor,
                kind=DeliveryExceptionEvent.Kind.RESOLVE,
                params={"outcome": ExceptionOutcome.DELIVERED, "lines": []},
                lock=False,
            )
            count += 1
    return count


# What the salesperson reads, per kind (worded in their language when they open it).
NOTIFY_TEXTS = {
    ExceptionKind.LATE: gettext_noop("Shipment %(shipment)s of order %(order)s (%(customer)s) is late."),
    ExceptionKind.LOST: gettext_noop("Shipment %(shipment)s of order %(order)s (%(customer)s) is reported lost."),
    ExceptionKind.DAMAGED: gettext_noop("Shipment %(shipment)s of order %(order)s (%(customer)s) is reported damaged."),
    ExceptionKind.REFUSED: gettext_noop("Shipment %(shipment)s of order %(order)s (%(customer)s) was refused."),
    ExceptionKind.RETURNING: gettext_noop("Shipment %(shipment)s of order %(order)s (%(customer)s) is coming back to us."),
    ExceptionKind.PROBLEM: gettext_noop(
        "The carrier reported a problem with shipment %(shipment)s of order %(order)s (%(customer)s)."
    ),
}


def salesperson_ids(exception: DeliveryException) -> list[int]:
    """Who sells to this customer: whoever entered the order and the customer's salesperson."""
    ids = [exception.order.created_by_id, exception.order.customer.salesperson_id]
    return [pk for pk in dict.fromkeys(ids) if pk is not None]


def exception_notify_salesperson(*, exception_id: int) -> bool:
    """The salesperson sees in the app that a shipment of their order has an exception (once per exception)."""
    exception = DeliveryException.objects.select_related("order__customer", "shipment").filter(pk=exception_id).first()
    if exception is None:
        return False
    notification_send(
        recipient_ids=salesperson_ids(exception),
        text=NOTIFY_TEXTS.get(exception.kind, NOTIFY_TEXTS[ExceptionKind.PROBLEM]),
        params={
            "shipment": exception.shipment.number,
            "order": exception.order.number,
            "customer": exception.order.customer.name,
        },
        url=reverse("logistics:exception_detail", args=[exception.pk]),
    )
    return True

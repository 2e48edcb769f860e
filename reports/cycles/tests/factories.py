"""Test data for the cycle snapshot: orders whose timeline is written directly, at chosen times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from config.actors import Actor
from orders.models import OrderEvent, ReviewFinding, SalesOrder
from orders.tests.review_factories import make_order

CHECKS = Actor.system("automatic_checks")
PAID = "paid"


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware moment on a local calendar day."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def timeline_order(
    *,
    by,
    steps: list[tuple[str, datetime] | tuple[str, datetime, object]],
    requested_date: date | None = None,
    payment_status: str = "",
    customer=None,
    flags: list[str] | None = None,
) -> SalesOrder:
    """An order whose timeline is `steps` [(to_state, at[, actor])] ("paid" writes a payment event), left in
    the last state; `flags` are rules that flagged its (first) submission."""
    order = make_order(by=by, customer=customer, requested_date=requested_date, stocked=False)
    state = "draft"
    for step in steps:
        to_state, when = step[0], step[1]
        actor = step[2] if len(step) > 2 else CHECKS
        if to_state == PAID:
            event = OrderEvent.record(order, kind=OrderEvent.Kind.PAYMENT, actor=actor, params={"from": "unpaid", "to": "paid"})
        else:
            event = OrderEvent.record(order, kind=OrderEvent.Kind.TRANSITION, actor=actor, from_state=state, to_state=to_state)
            state = to_state
        OrderEvent.objects.filter(pk=event.pk).update(at=when)
    for rule in flags or []:
        ReviewFinding.objects.create(order=order, submission=1, rule=rule, message=rule)
    SalesOrder.objects.filter(pk=order.pk).update(status=state, payment_status=payment_status)
    return SalesOrder.objects.get(pk=order.pk)


def approved_in(*, by, submitted: datetime, hours: float, **fields) -> SalesOrder:
    """Submitted, and approved by the checks `hours` later."""
    return timeline_order(by=by, steps=[("submitted", submitted), ("approved", submitted + timedelta(hours=hours))], **fields)

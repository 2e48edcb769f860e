"""The nightly run of the cycle snapshot: it computes again only the orders that changed since the last run
(and a slice of all orders in turn), and leaves the rows a full rebuild would write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from orders.models import OrderEvent, SalesOrder
from reports.cycles import refresh
from reports.cycles.models import OrderCycle
from reports.cycles.refresh import cycles_nightly, cycles_rebuild, cycles_refresh_orders
from reports.models import SnapshotState

from .factories import CHECKS, PAID, approved_in, at, timeline_order
from .test_snapshot import snapshot_contents

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


def rebuilt_contents() -> dict:
    """What a full rebuild writes (the snapshot is left rebuilt)."""
    cycles_rebuild()
    return snapshot_contents()


@pytest.fixture
def orders(make_user):
    seller = make_user("sales")
    made = [approved_in(by=seller, submitted=at(MONDAY + timedelta(days=n)), hours=n + 1) for n in range(6)]
    made.append(
        timeline_order(
            by=seller,
            steps=[("submitted", at(MONDAY)), ("approved", at(MONDAY, 10)), ("allocated", at(MONDAY, 12))],
            requested_date=MONDAY + timedelta(days=3),
        )
    )
    return {"seller": seller, "orders": made}


def advance(order: SalesOrder, to_state: str, *, when=None, payment: bool = False) -> None:
    """The order moves on (its timeline and state) without its event being handled; `when` backdates it all."""
    if payment:
        event = OrderEvent.record(order, kind=OrderEvent.Kind.PAYMENT, actor=CHECKS, params={"from": "unpaid", "to": PAID})
    else:
        event = OrderEvent.record(
            order, kind=OrderEvent.Kind.TRANSITION, actor=CHECKS, from_state=order.status, to_state=to_state
        )
    changes = {"payment_status": PAID} if payment else {"status": to_state}
    if when is not None:
        OrderEvent.objects.filter(pk=event.pk).update(at=when)
        changes["updated_at"] = when
    SalesOrder.objects.filter(pk=order.pk).update(**changes)
    order.refresh_from_db()


def test_the_first_nightly_run_builds_the_snapshot_in_full(orders):
    outcome = cycles_nightly()
    assert outcome["rebuilt"] is True
    built = snapshot_contents()
    assert built == rebuilt_contents()
    assert OrderCycle.objects.count() == len(orders["orders"])


def test_the_nightly_run_takes_the_orders_changed_since_the_last_run_as_a_rebuild_would(orders):
    cycles_nightly()
    late = orders["orders"][-1]
    advance(late, "shipped")
    advance(late, "delivered")
    advance(late, "paid", payment=True)
    fresh = approved_in(by=orders["seller"], submitted=at(MONDAY + timedelta(days=8)), hours=5)  # never refreshed
    outcome = cycles_nightly(now=timezone.now() + timedelta(hours=1))
    assert outcome["rebuilt"] is False
    assert outcome["refreshed"] >= 2
    nightly = snapshot_contents()
    assert OrderCycle.objects.get(order_id=late.pk).delivered_at is not None
    assert OrderCycle.objects.filter(order_id=fresh.pk).exists()
    assert nightly == rebuilt_contents()


def test_an_order_changed_without_a_trace_is_computed_again_when_its_slice_comes(orders, monkeypatch):
    monkeypatch.setattr(refresh, "NIGHTLY_SLICE_ORDERS", 2)
    cycles_nightly()
    quiet = orders["orders"][0]
    advance(quiet, "allocated", when=at(MONDAY, 15))  # no time after the last run marks it
    start = timezone.now()
    for night in range(1, len(orders["orders"]) + 1):  # slices of 2 ids: every one within as many nights
        cycles_nightly(now=start + timedelta(days=night))
    assert OrderCycle.objects.get(order_id=quiet.pk).allocated_at == at(MONDAY, 15)
    assert snapshot_contents() == rebuilt_contents()


def test_the_nightly_run_says_when_it_ran(orders):
    cycles_nightly()
    later = timezone.now() + timedelta(hours=2)
    cycles_nightly(now=later)
    state = SnapshotState.objects.get(name="cycles")
    assert state.rebuilt_at == later == state.refreshed_at


def test_refreshing_many_orders_at_once_writes_what_a_rebuild_writes(orders):
    cycles_rebuild()
    for order in orders["orders"][:4]:
        advance(order, "allocated")
    cycles_refresh_orders(order_ids=[order.pk for order in orders["orders"]])
    refreshed = snapshot_contents()
    assert refreshed == rebuilt_contents()

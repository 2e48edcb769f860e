"""Orders at risk: each reason on its own, the per-state limits, whose orders a salesperson sees, and the
sentences in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from billing.dunning.models import CreditHold, DunningLevel
from billing.dunning.services import credit_hold_place
from config.actors import Actor
from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, stocked_product
from logistics.exceptions.services import exception_report
from logistics.tests.factories import allocated_order, packed_shipment, ship
from orders.models import OrderStatus, ReviewRule
from reports.cycles.models import OrderCycle, RiskLimits
from reports.cycles.refresh import cycles_rebuild, cycles_refresh_orders
from reports.cycles.risk import RiskClock, RiskReason
from reports.cycles.selectors import orders_at_risk, orders_at_risk_count, risk_rows

from .factories import timeline_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_user):
    return make_user("sales")


def in_state(seller, state: str, *, hours_ago: float, **fields):
    """An order submitted and now `hours_ago` hours in `state`."""
    now = timezone.now()
    steps = [("submitted", now - timedelta(hours=hours_ago + 1))]
    if state != "submitted":
        steps.append((state, now - timedelta(hours=hours_ago)))
    return timeline_order(by=seller, steps=steps, **fields)


def reasons(order) -> dict[str, str]:
    """{reason: sentence} of an order, or {} when it is not at risk."""
    clock = RiskClock.current()
    found = list(orders_at_risk(clock=clock).filter(order_id=order.pk).select_related("order", "customer"))
    if not found:
        return {}
    (row,) = risk_rows(found, clock=clock)
    return {note.reason: note.text for note in row.notes}


def test_an_order_not_delivered_by_its_requested_date_is_late(seller):
    today = timezone.localdate()
    late = in_state(seller, "allocated", hours_ago=1, requested_date=today - timedelta(days=2))
    due_today = in_state(seller, "allocated", hours_ago=1, requested_date=today)
    delivered = in_state(seller, "delivered", hours_ago=1, requested_date=today - timedelta(days=2))
    cycles_rebuild()
    assert list(reasons(late)) == [RiskReason.LATE]
    assert "2 days ago" in reasons(late)[RiskReason.LATE]
    assert reasons(due_today) == {} and reasons(delivered) == {}


def test_an_order_longer_in_a_state_than_its_limit_is_stuck_and_a_state_without_limit_never_is(seller):
    RiskLimits.objects.update_or_create(pk=1, defaults={"approved_hours": 24, "backordered_hours": None})
    stuck = in_state(seller, "approved", hours_ago=30)
    fresh = in_state(seller, "approved", hours_ago=10)
    waiting_for_stock = in_state(seller, "backordered", hours_ago=24 * 60)
    cycles_rebuild()
    assert reasons(stuck) == {RiskReason.STUCK: "Approved for 30 hours; the limit is 24 hours."}
    assert reasons(fresh) == {} and reasons(waiting_for_stock) == {}


def test_a_limit_in_days_reads_in_days(seller):
    RiskLimits.objects.update_or_create(pk=1, defaults={"backordered_hours": 168})
    order = in_state(seller, "backordered", hours_ago=24 * 9 + 5)
    cycles_rebuild()
    assert reasons(order) == {RiskReason.STUCK: "Backordered for 9 days; the limit is 7 days."}


def test_orders_of_a_customer_on_credit_hold_are_at_risk_until_their_goods_have_left(seller):
    waiting = in_state(seller, "allocated", hours_ago=1)
    gone = in_state(seller, "shipped", hours_ago=1, customer=waiting.customer)
    level = DunningLevel.objects.filter(credit_hold=True).first() or DunningLevel.objects.first()
    credit_hold_place(customer=waiting.customer, level=level, reminder=None, by=Actor.system("dunning"))
    cycles_rebuild()
    assert list(reasons(waiting)) == [RiskReason.CREDIT_HOLD]
    assert "credit hold since" in reasons(waiting)[RiskReason.CREDIT_HOLD]
    assert reasons(gone) == {}
    CreditHold.objects.update(released_at=timezone.now(), release=CreditHold.Release.PAID)
    assert reasons(waiting) == {}  # read when shown: no refresh needed


def test_an_order_held_in_review_by_the_credit_check_is_on_credit_hold(seller):
    now = timezone.now()
    held = timeline_order(by=seller, flags=[ReviewRule.CREDIT], steps=[("submitted", now), ("in_review", now)])
    priced = timeline_order(by=seller, flags=[ReviewRule.PRICE], steps=[("submitted", now), ("in_review", now)])
    cycles_rebuild()
    assert reasons(held) == {RiskReason.CREDIT_HOLD: "Held in review by the credit check."}
    assert reasons(priced) == {}


def test_an_open_delivery_exception_puts_the_order_at_risk_until_it_is_resolved(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    clerk = make_user("warehouse")
    tea = stocked_product(stock={warehouse: 5})
    order = allocated_order(lines=[(tea, 1)])
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)
    cycles_rebuild()
    assert reasons(order) == {}
    exception = exception_report(shipment=shipment, kind="lost", by=clerk)
    outbox_dispatch()
    assert list(reasons(order)) == [RiskReason.DELIVERY_EXCEPTION]
    assert OrderCycle.objects.get(order=order).exception_since == exception.opened_at


def test_an_order_whose_invoice_is_past_its_due_date_is_at_risk_until_paid(seller):
    today = timezone.localdate()
    owing = in_state(seller, "delivered", hours_ago=1)
    due_today = in_state(seller, "delivered", hours_ago=1)
    cycles_rebuild()
    OrderCycle.objects.filter(order=owing).update(payment_due=today - timedelta(days=3))
    OrderCycle.objects.filter(order=due_today).update(payment_due=today)
    assert list(reasons(owing)) == [RiskReason.PAST_DUE]
    assert "3 days overdue" in reasons(owing)[RiskReason.PAST_DUE]
    assert reasons(due_today) == {}


def test_an_order_has_every_reason_that_applies_and_the_filter_picks_by_reason(seller):
    today = timezone.localdate()
    RiskLimits.objects.update_or_create(pk=1, defaults={"allocated_hours": 24})
    both = in_state(seller, "allocated", hours_ago=48, requested_date=today - timedelta(days=1))
    only_late = in_state(seller, "allocated", hours_ago=1, requested_date=today - timedelta(days=1))
    cycles_rebuild()
    assert list(reasons(both)) == [RiskReason.LATE, RiskReason.STUCK]
    stuck_ids = set(orders_at_risk(reasons=[RiskReason.STUCK]).values_list("order_id", flat=True))
    assert stuck_ids == {both.pk}
    assert orders_at_risk_count() == 2 and only_late.pk in set(orders_at_risk().values_list("order_id", flat=True))


def test_finished_orders_are_never_at_risk(seller):
    long_ago = timezone.localdate() - timedelta(days=90)
    for state in ("completed", "cancelled", "rejected", "draft"):
        in_state(seller, state, hours_ago=24 * 80, requested_date=long_ago)
    cycles_rebuild()
    assert orders_at_risk_count() == 0


def test_a_salesperson_counts_only_their_own_orders_at_risk(seller, make_user):
    other = make_user("sales")
    yesterday = timezone.localdate() - timedelta(days=1)
    mine = in_state(seller, "approved", hours_ago=1, requested_date=yesterday)
    in_state(other, "approved", hours_ago=1, requested_date=yesterday)
    cycles_rebuild()
    assert orders_at_risk_count(salesperson_id=seller.pk) == 1
    assert list(orders_at_risk(salesperson_id=seller.pk).values_list("order_id", flat=True)) == [mine.pk]
    assert orders_at_risk_count() == 2


def test_the_reasons_read_in_chinese(seller):
    today = timezone.localdate()
    RiskLimits.objects.update_or_create(pk=1, defaults={"allocated_hours": 24})
    order = in_state(seller, "allocated", hours_ago=30, requested_date=today - timedelta(days=1))
    cycles_rebuild()
    with translation.override("zh-hans"):
        texts = reasons(order)
    assert "已分配" in texts[RiskReason.STUCK] and "30" in texts[RiskReason.STUCK]
    assert all(text.isascii() is False for text in texts.values())


def test_an_order_refreshed_by_its_event_leaves_the_queue_when_it_moves_on(seller):
    RiskLimits.objects.update_or_create(pk=1, defaults={"approved_hours": 1})
    order = in_state(seller, "approved", hours_ago=5)
    cycles_refresh_orders(order_ids=[order.pk])
    assert list(reasons(order)) == [RiskReason.STUCK]
    from orders.models import OrderEvent, SalesOrder

    OrderEvent.objects.create(order=order, kind="transition", from_state="approved", to_state="allocated")
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.ALLOCATED)
    cycles_refresh_orders(order_ids=[order.pk])
    assert reasons(order) == {}

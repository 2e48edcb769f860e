"""The order cycle snapshot: its rows follow the timelines, events keep it current, the nightly rebuild
writes the same rows, and the weekly median and 90th percentile are the textbook ones."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from django.utils import timezone

from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from billing.payments.services import payment_record
from billing.tests.factories import company_customer, finance_user
from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from logistics.tests.factories import packed_shipment, ship
from logistics.tracking.services import shipment_confirm_delivery
from orders.models import OrderEvent, OrderStatus, ReviewRule, SalesOrder
from reports.cycles.models import (
    CycleStageTime,
    CycleWeek,
    DeliveryDay,
    OrderCycle,
    ReviewCase,
    ReviewDay,
    ReviewFlag,
    ReviewOutcome,
    Stage,
)
from reports.cycles.refresh import cycles_rebuild, cycles_refresh_orders, percentile_positions
from reports.models import SnapshotState

from .factories import PAID, approved_in, at, monday, timeline_order

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
HOUR = 3600


def snapshot_contents() -> dict[str, list[tuple]]:
    """Every snapshot row, without surrogate ids and refresh times, in a stable order."""

    def rows(model, exclude=("id", "refreshed_at")):
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
        return sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*names))

    return {
        model.__name__: rows(model)
        for model in (OrderCycle, CycleStageTime, CycleWeek, DeliveryDay, ReviewCase, ReviewDay, ReviewFlag)
    }


# --- percentiles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 42))
def test_percentile_ranks_are_those_of_linear_interpolation(n):
    values = [i * i for i in range(1, n + 1)]  # uneven gaps, so a wrong rank or weight shows
    low, high, weight = percentile_positions(n, (1, 2))
    assert values[low - 1] + (values[high - 1] - values[low - 1]) * weight == statistics.median(values)
    low, high, weight = percentile_positions(n, (9, 10))
    expected = statistics.quantiles(values, n=10, method="inclusive")[8] if n > 1 else values[0]
    assert values[low - 1] + (values[high - 1] - values[low - 1]) * weight == pytest.approx(expected)


def test_weekly_median_and_p90_of_a_stage_are_the_textbook_figures(make_user):
    seller = make_user("sales")
    first = [1, 2, 3, 4, 5, 6, 100]
    second = [0.5, 2, 3, 10]
    for i, hours in enumerate(first):
        approved_in(by=seller, submitted=at(MONDAY + timedelta(days=i % 5)), hours=hours)
    for hours in second:
        approved_in(by=seller, submitted=at(MONDAY + timedelta(days=7)), hours=hours)
    cycles_rebuild()
    weeks = {row.week: row for row in CycleWeek.objects.filter(stage=Stage.SUBMIT_APPROVE)}
    assert set(weeks) == {MONDAY, MONDAY + timedelta(days=7)}
    for week, hours in ((MONDAY, first), (MONDAY + timedelta(days=7), second)):
        seconds = [h * HOUR for h in hours]
        assert weeks[week].orders == len(hours)
        assert weeks[week].median_seconds == pytest.approx(statistics.median(seconds))
        assert weeks[week].p90_seconds == pytest.approx(statistics.quantiles(seconds, n=10, method="inclusive")[8])
    assert weeks[MONDAY].median_seconds == 4 * HOUR
    assert weeks[MONDAY + timedelta(days=7)].median_seconds == 2.5 * HOUR


def test_a_stage_counts_in_the_local_week_it_ended(make_user):
    seller = make_user("sales")
    sunday_night = at(MONDAY - timedelta(days=1), 23, 30)  # Sunday 23:30 in Shanghai is 15:30 UTC
    approved_in(by=seller, submitted=sunday_night - timedelta(hours=1), hours=1)  # ends Sunday: previous week
    approved_in(by=seller, submitted=sunday_night, hours=1)  # ends Monday 00:30: this week
    cycles_rebuild()
    assert sorted(CycleWeek.objects.values_list("week", "orders")) == [(MONDAY - timedelta(days=7), 1), (MONDAY, 1)]


# --- rows from the timeline -----------------------------------------------------------------------------


def test_every_stage_of_an_order_and_its_paid_time_come_from_its_timeline(make_user):
    seller = make_user("sales")
    t0 = at(MONDAY)
    order = timeline_order(
        by=seller,
        requested_date=MONDAY + timedelta(days=5),
        payment_status="paid",
        steps=[
            ("submitted", t0),
            ("approved", t0 + timedelta(minutes=2)),
            ("backordered", t0 + timedelta(minutes=3)),
            ("allocated", t0 + timedelta(days=1)),
            ("partially_shipped", t0 + timedelta(days=2)),
            ("shipped", t0 + timedelta(days=3)),
            ("delivered", t0 + timedelta(days=4)),
            (PAID, t0 + timedelta(days=20)),
            ("completed", t0 + timedelta(days=20)),
        ],
    )
    cycles_rebuild()
    cycle = OrderCycle.objects.get(order=order)
    assert (cycle.salesperson_id, cycle.status) == (seller.pk, OrderStatus.COMPLETED)
    assert cycle.submitted_at == t0 and cycle.approved_at == t0 + timedelta(minutes=2)
    assert cycle.allocated_at == t0 + timedelta(days=1)
    assert cycle.shipped_at == t0 + timedelta(days=3) and cycle.delivered_at == t0 + timedelta(days=4)
    assert cycle.paid_at == t0 + timedelta(days=20) and cycle.status_since == t0 + timedelta(days=20)
    assert cycle.delivered_on == MONDAY + timedelta(days=4) and not cycle.risk_open
    stages = dict(CycleStageTime.objects.filter(order_id=order.pk).values_list("stage", "seconds"))
    assert stages == {
        Stage.SUBMIT_APPROVE: 120,
        Stage.APPROVE_ALLOCATE: 86400 - 120,
        Stage.ALLOCATE_SHIP: 2 * 86400,
        Stage.SHIP_DELIVER: 86400,
        Stage.DELIVER_PAY: 16 * 86400,
    }
    assert DeliveryDay.objects.get().on_time_requested == 1


def test_an_order_paid_before_delivery_waited_nothing_and_one_unpaid_again_has_no_paid_time(make_user):
    seller = make_user("sales")
    t0 = at(MONDAY)
    prepaid = timeline_order(
        by=seller,
        payment_status="paid",
        steps=[("submitted", t0), ("approved", t0), (PAID, t0 + timedelta(hours=1)), ("delivered", t0 + timedelta(days=3))],
    )
    owing = timeline_order(
        by=seller, payment_status="unpaid", steps=[("submitted", t0), (PAID, t0 + timedelta(days=1)), ("approved", t0)]
    )
    cycles_rebuild()
    assert CycleStageTime.objects.get(order_id=prepaid.pk, stage=Stage.DELIVER_PAY).seconds == 0
    assert OrderCycle.objects.get(order=owing).paid_at is None


def test_drafts_never_submitted_have_no_cycle(make_user):
    seller = make_user("sales")
    draft = timeline_order(by=seller, steps=[])
    cycles_rebuild()
    cycles_refresh_orders(order_ids=[draft.pk])
    assert not OrderCycle.objects.exists()


def test_on_time_delivery_counts_against_the_requested_date_and_the_eta(make_user):
    seller, other = make_user("sales"), make_user("sales")
    wednesday = MONDAY + timedelta(days=2)
    for requested, person in (
        (wednesday, seller),  # on the day: on time
        (wednesday - timedelta(days=1), seller),  # a day late
        (None, seller),  # nothing asked
        (wednesday + timedelta(days=3), other),
    ):
        timeline_order(by=person, requested_date=requested, steps=[("submitted", at(MONDAY)), ("delivered", at(wednesday, 18))])
    cycles_rebuild()
    mine = DeliveryDay.objects.get(salesperson_id=seller.pk)
    assert (mine.day, mine.delivered, mine.with_requested, mine.on_time_requested) == (wednesday, 3, 2, 1)
    theirs = DeliveryDay.objects.get(salesperson_id=other.pk)
    assert (theirs.delivered, theirs.on_time_requested) == (1, 1)


# --- review -------------------------------------------------------------------------------------------------


def test_review_cases_say_how_each_submission_ended_who_decided_and_how_long_it_took(make_user):
    seller, reviewer = make_user("sales"), make_user("reviewer")
    t0 = at(MONDAY)
    passed = approved_in(by=seller, submitted=t0, hours=0)
    approved = timeline_order(
        by=seller,
        flags=[ReviewRule.CREDIT, ReviewRule.PRICE],
        steps=[("submitted", t0), ("in_review", t0), ("approved", t0 + timedelta(hours=5), reviewer)],
    )
    rejected_then_passed = timeline_order(
        by=seller,
        flags=[ReviewRule.AMOUNT],
        steps=[
            ("submitted", t0),
            ("in_review", t0),
            ("rejected", t0 + timedelta(hours=2), reviewer),
            ("draft", t0 + timedelta(hours=3), seller),
            ("submitted", t0 + timedelta(days=1)),
            ("approved", t0 + timedelta(days=1)),
        ],
    )
    waiting = timeline_order(by=seller, flags=[ReviewRule.CREDIT], steps=[("submitted", t0), ("in_review", t0)])
    cycles_rebuild()
    cases = {(case.order_id, case.outcome): case for case in ReviewCase.objects.all()}
    assert set(cases) == {
        (passed.pk, ReviewOutcome.PASSED),
        (approved.pk, ReviewOutcome.APPROVED),
        (rejected_then_passed.pk, ReviewOutcome.REJECTED),
        (rejected_then_passed.pk, ReviewOutcome.PASSED),
        (waiting.pk, ReviewOutcome.PENDING),
    }
    decided = cases[(approved.pk, ReviewOutcome.APPROVED)]
    assert (decided.flagged, decided.reviewer_id, decided.review_seconds) == (True, reviewer.pk, 5 * HOUR)
    assert cases[(rejected_then_passed.pk, ReviewOutcome.REJECTED)].review_seconds == 2 * HOUR
    assert cases[(waiting.pk, ReviewOutcome.PENDING)].reviewer_id is None
    day = ReviewDay.objects.get(day=MONDAY)
    assert (day.checked, day.flagged, day.approved, day.rejected) == (4, 3, 1, 1)
    assert ReviewDay.objects.get(day=MONDAY + timedelta(days=1)).checked == 1
    assert sorted(ReviewFlag.objects.values_list("rule", flat=True)) == ["amount", "credit", "credit", "price"]
    review_times = sorted(CycleStageTime.objects.filter(stage=Stage.REVIEW).values_list("seconds", flat=True))
    assert review_times == [2 * HOUR, 5 * HOUR]
    assert OrderCycle.objects.get(order=waiting).credit_review
    assert not OrderCycle.objects.get(order=approved).credit_review


# --- incremental = full ------------------------------------------------------------------------------------


def test_refreshing_one_order_recomputes_the_weeks_it_left_and_entered(make_user):
    seller = make_user("sales")
    stays = approved_in(by=seller, submitted=at(MONDAY), hours=1)
    moves = approved_in(by=seller, submitted=at(MONDAY), hours=3)
    cycles_rebuild()
    assert CycleWeek.objects.get(week=MONDAY).median_seconds == 2 * HOUR
    # Its approval turns out to have been a week later (the event is corrected): both weeks change.
    OrderEvent.objects.filter(order=moves, to_state="approved").update(at=at(MONDAY + timedelta(days=7)))
    cycles_refresh_orders(order_ids=[moves.pk])
    assert CycleWeek.objects.get(week=MONDAY).median_seconds == HOUR
    assert CycleWeek.objects.get(week=MONDAY + timedelta(days=7)).orders == 1
    refreshed = snapshot_contents()
    cycles_rebuild()
    assert snapshot_contents() == refreshed
    assert stays.pk in set(OrderCycle.objects.values_list("order_id", flat=True))


def test_a_rebuild_run_twice_writes_the_same_rows_and_says_when(make_user):
    seller = make_user("sales")
    approved_in(by=seller, submitted=at(MONDAY), hours=1)
    cycles_rebuild()
    first = snapshot_contents()
    cycles_rebuild()
    assert snapshot_contents() == first
    state = SnapshotState.objects.get(name="cycles")
    assert state.rebuilt_at is not None and state.refreshed_at == state.rebuilt_at


def test_an_order_through_its_life_is_kept_current_by_its_events_as_a_rebuild_would(make_user):
    warehouse = WarehouseFactory(code="SH", priority=1)
    clerk, finance = make_user("warehouse"), finance_user()
    customer = company_customer()
    tea = stocked_product(stock={warehouse: 10})
    order = approved_order(lines=[(tea, 2)], customer=customer)
    outbox_dispatch()  # the checks' decision, then allocation
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    cycle = OrderCycle.objects.get(order=order)
    assert cycle.allocated_at is not None and cycle.risk_open
    eta = timezone.localdate() + timedelta(days=2)
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk, eta=eta)
    outbox_dispatch()
    assert OrderCycle.objects.get(order=order).eta == eta
    shipment_confirm_delivery(shipment=shipment, by=clerk)
    outbox_dispatch()
    cycle = OrderCycle.objects.get(order=order)
    assert cycle.delivered_on == timezone.localdate() and cycle.payment_due is None
    invoice = invoice_issue(invoice=invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice, by=finance)
    outbox_dispatch()
    assert OrderCycle.objects.get(order=order).payment_due == invoice.due_date
    payment_record(
        customer=customer,
        amount=invoice.total_gross,
        date=timezone.localdate(),
        method="cash",
        by=finance,
        allocations=[(invoice, invoice.total_gross)],
    )
    outbox_dispatch()
    cycle = OrderCycle.objects.get(order=order)
    assert cycle.status == OrderStatus.COMPLETED and cycle.paid_at is not None and cycle.payment_due is None
    assert not cycle.risk_open
    assert set(CycleStageTime.objects.filter(order_id=order.pk).values_list("stage", flat=True)) == {
        Stage.SUBMIT_APPROVE,
        Stage.APPROVE_ALLOCATE,
        Stage.ALLOCATE_SHIP,
        Stage.SHIP_DELIVER,
        Stage.DELIVER_PAY,
    }
    assert DeliveryDay.objects.get().delivered == 1
    kept_current = snapshot_contents()
    cycles_rebuild()
    assert snapshot_contents() == kept_current


def test_figures_of_a_week_are_not_written_twice_when_two_orders_refresh_together(make_user):
    seller = make_user("sales")
    orders = [approved_in(by=seller, submitted=at(MONDAY), hours=h) for h in (1, 2, 3)]
    cycles_refresh_orders(order_ids=[o.pk for o in orders[:2]])
    cycles_refresh_orders(order_ids=[orders[2].pk])
    cycles_refresh_orders(order_ids=[orders[0].pk])
    week = CycleWeek.objects.get(week=monday(MONDAY), stage=Stage.SUBMIT_APPROVE)
    assert (week.orders, week.median_seconds) == (3, 2 * HOUR)
    assert week.p90_seconds == pytest.approx(2.8 * HOUR)


def test_an_order_written_without_a_timeline_takes_its_own_times(make_user):
    """Orders imported or seeded by SQL have no events: their submitted and approved columns still count."""
    from orders.tests.review_factories import make_order

    seller = make_user("sales")
    order = make_order(by=seller, stocked=False)
    SalesOrder.objects.filter(pk=order.pk).update(status="approved", submitted_at=at(MONDAY), approved_at=at(MONDAY, 10))
    cycles_rebuild()
    cycle = OrderCycle.objects.get(order=order)
    assert (cycle.submitted_at, cycle.approved_at, cycle.status) == (at(MONDAY), at(MONDAY, 10), "approved")
    assert cycle.risk_open
    assert CycleStageTime.objects.get(order_id=order.pk).seconds == HOUR

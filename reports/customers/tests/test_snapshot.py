"""The customer snapshot on known data: what counts, the RFM quintiles, the segments, and one customer's refresh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Complaint
from customers.tests.factories import ComplaintFactory
from logistics.returns.models import ReturnRequest
from reports.customers.handlers import refresh_customers
from reports.customers.models import CustomerMonth, CustomerSnapshot, RfmBounds, Segment
from reports.customers.snapshot import customer_snapshot_rebuild, customer_snapshot_refresh_many
from reports.models import SnapshotState

from .factories import CustomerFactory, order_on

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 6, 15, 12, 0))


@pytest.fixture
def seller(make_user):
    return make_user("sales")


def snap(customer) -> CustomerSnapshot:
    return CustomerSnapshot.objects.get(customer=customer)


def scores(customer) -> tuple:
    row = snap(customer)
    return row.recency_score, row.frequency_score, row.monetary_score


def test_booked_orders_count_and_open_ones_are_told_apart(seller):
    """Approved and later orders are booked; drafts, rejected and cancelled ones count nowhere;
    submitted to partly shipped ones are open."""
    customer = CustomerFactory()
    for status, total in [
        ("completed", "100.00"),
        ("shipped", "200.00"),
        ("allocated", "300.00"),  # booked and open
        ("in_review", "400.00"),  # open, not booked
        ("draft", "1000.00"),
        ("rejected", "2000.00"),
        ("cancelled", "3000.00"),
    ]:
        order_on(customer=customer, user=seller, days_ago=10, total=total, status=status, now=NOW)
    order_on(customer=customer, user=seller, days_ago=400, total="50.00", now=NOW)  # booked, before the 12 months

    customer_snapshot_rebuild(now=NOW)

    row = snap(customer)
    assert (row.orders_count, row.gross_total) == (4, Decimal("650.00"))
    assert (row.orders_12m, row.gross_12m, row.net_12m) == (3, Decimal("600.00"), Decimal("600.00"))
    assert (row.open_orders, row.open_gross) == (2, Decimal("700.00"))
    assert row.first_order_at == NOW - timedelta(days=400)
    assert row.last_order_at == NOW - timedelta(days=10)


def test_scores_are_quintiles_over_the_customers_who_ordered_in_the_12_months(seller):
    """Ten customers, the i-th with i orders of 100 each, the last one i days ago: two per quintile."""
    customers = []
    for i in range(1, 11):
        customer = CustomerFactory()
        for n in range(i):
            order_on(customer=customer, user=seller, days_ago=i + n * 20, total="100.00", now=NOW)
        customers.append(customer)
    outsider = CustomerFactory()  # ordered only before the window: not scored, and no part of the quintiles
    order_on(customer=outsider, user=seller, days_ago=500, total="99999.00", now=NOW)

    customer_snapshot_rebuild(now=NOW)

    for i, customer in enumerate(customers, start=1):
        frequent = (i + 1) // 2  # 1,1,2,2,3,3,4,4,5,5
        recent = (12 - i) // 2  # ordered 1 day ago: 5; 10 days ago: 1
        assert scores(customer) == (recent, frequent, frequent), f"customer {i}"
    assert scores(outsider) == (None, None, None)
    assert snap(outsider).segment == Segment.LOST
    assert RfmBounds.objects.get().active_customers == 10


def test_equal_figures_get_equal_scores(seller):
    """Six customers with one order and four with two: every one-order customer has the same frequency score,
    and two orders the same day (at different hours) are equally recent."""
    one, two = [], []
    for i in range(10):
        customer = CustomerFactory()
        order_on(customer=customer, user=seller, days_ago=30 + i / 100, total="100.00", now=NOW)  # all on one day
        if i >= 6:
            order_on(customer=customer, user=seller, days_ago=60, total="100.00", now=NOW)
            two.append(customer)
        else:
            one.append(customer)

    customer_snapshot_rebuild(now=NOW)

    assert {snap(c).frequency_score for c in one} == {1}
    assert {snap(c).frequency_score for c in two} == {4}
    assert {snap(c).recency_score for c in one + two} == {1}


def test_each_segment_on_known_customers(seller):
    """Five scored customers, one per quintile of each measure, give champions, at risk, hibernating,
    promising and needs attention; besides them one lost, one without orders, one new."""

    def customer_with(orders: list[tuple[int, str]]):
        customer = CustomerFactory()
        for days_ago, total in orders:
            order_on(customer=customer, user=seller, days_ago=days_ago, total=total, now=NOW)
        return customer

    champion = customer_with([(5, "1000"), (100, "1000"), (150, "1000"), (200, "1000"), (300, "1000")])  # R5 F5 M5
    at_risk = customer_with([(200, "500"), (250, "500"), (300, "500"), (330, "500")])  # R1 F4 M4
    hibernating = customer_with([(150, "50")])  # R2 F1 M1
    promising = customer_with([(20, "100"), (200, "100")])  # R4 F2 M2
    attention = customer_with([(95, "300"), (200, "300"), (300, "300")])  # R3 F3 M3
    lost = customer_with([(400, "5000")])
    never = CustomerFactory()
    order_on(customer=never, user=seller, days_ago=3, status="draft", now=NOW)

    customer_snapshot_rebuild(now=NOW)

    assert scores(champion) == (5, 5, 5) and snap(champion).segment == Segment.CHAMPIONS
    assert scores(at_risk) == (1, 4, 4) and snap(at_risk).segment == Segment.AT_RISK
    assert scores(hibernating) == (2, 1, 1) and snap(hibernating).segment == Segment.HIBERNATING
    assert scores(promising) == (4, 2, 2) and snap(promising).segment == Segment.PROMISING
    assert scores(attention) == (3, 3, 3) and snap(attention).segment == Segment.NEED_ATTENTION
    assert snap(lost).segment == Segment.LOST
    assert snap(never).segment == Segment.NO_ORDERS and snap(never).orders_count == 0

    # A first order 10 days ago makes a customer new, whatever its scores; frequent small orders lately make one loyal.
    newcomer = customer_with([(10, "9000"), (11, "9000")])
    loyal = customer_with([(1, "1"), (2, "1"), (3, "1"), (120, "1"), (121, "1"), (122, "1")])
    customer_snapshot_rebuild(now=NOW)
    assert snap(newcomer).segment == Segment.NEW
    assert snap(loyal).frequency_score == 5 and snap(loyal).monetary_score == 1
    assert snap(loyal).segment == Segment.LOYAL


def test_complaints_and_accepted_returns_are_counted(seller):
    customer = CustomerFactory()
    order = order_on(customer=customer, user=seller, days_ago=10, now=NOW)
    ComplaintFactory(customer=customer)
    ComplaintFactory(customer=customer, state=Complaint.State.CLOSED, resolution="换货")
    old = ComplaintFactory(customer=customer, state=Complaint.State.RESOLVED, resolution="退款")
    Complaint.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=500))
    for number, state in enumerate(["approved", "received", "closed", "requested", "rejected"]):
        ReturnRequest.objects.create(number=f"RMA-T-{number}", order=order, state=state, reason="defective")
    ReturnRequest.objects.filter(state="closed").update(created_at=NOW - timedelta(days=400))

    customer_snapshot_rebuild(now=NOW)

    row = snap(customer)
    assert (row.complaints_count, row.complaints_12m, row.open_complaints) == (3, 2, 1)
    assert (row.returns_count, row.returns_12m) == (3, 2)


def test_months_are_local_calendar_months_and_the_first_is_marked(seller, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    customer = CustomerFactory()
    # 2026-03-31 20:00 UTC is already 1 April in Shanghai: the order belongs to April.
    late_march_utc = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    order_on(customer=customer, user=seller, days_ago=0, total="10.00", now=late_march_utc)
    order_on(customer=customer, user=seller, days_ago=40, total="20.00", now=late_march_utc)  # February
    order_on(customer=customer, user=seller, days_ago=35, total="5.00", now=late_march_utc)  # February too

    customer_snapshot_rebuild(now=NOW)

    months = CustomerMonth.objects.filter(customer=customer).order_by("month")
    assert list(months.values_list("month", "orders", "gross", "is_first_month")) == [
        (date(2026, 2, 1), 2, Decimal("25.00"), True),
        (date(2026, 4, 1), 1, Decimal("10.00"), False),
    ]


def test_refreshing_one_customer_gives_what_a_rebuild_gives(seller):
    customers = [CustomerFactory() for _ in range(6)]
    for i, customer in enumerate(customers):
        for n in range(i + 1):
            order_on(customer=customer, user=seller, days_ago=3 * i + 40 * n, total=100 * (i + 1), now=NOW)
    customer_snapshot_rebuild(now=NOW)
    changed = customers[2]
    order_on(customer=changed, user=seller, days_ago=1, total="700.00", now=NOW)
    ComplaintFactory(customer=changed)

    customer_snapshot_refresh_many(customer_ids=[changed.pk], now=NOW)
    refreshed = {
        field: getattr(snap(changed), field)
        for field in ["orders_count", "gross_total", "orders_12m", "gross_12m", "last_order_at", "complaints_count"]
    }
    refreshed_scores = scores(changed)
    assert refreshed["orders_count"] == 4 and refreshed["complaints_count"] == 1
    months = set(CustomerMonth.objects.filter(customer=changed).values_list("month", "orders", "gross", "is_first_month"))

    customer_snapshot_rebuild(now=NOW)  # the other customers are as they were: the bounds do not move
    assert {field: getattr(snap(changed), field) for field in refreshed} == refreshed
    assert set(CustomerMonth.objects.filter(customer=changed).values_list("month", "orders", "gross", "is_first_month")) == months
    # Refreshed, it was scored against the first rebuild's bounds: ordering yesterday put it above every recency bound.
    assert refreshed_scores[0] == 5


def test_the_batch_refreshes_many_customers_at_once_as_a_rebuild_would(seller):
    """reports.dirty's batch: every marked customer's rows in a fixed number of statements, equal to a rebuild's."""
    customers = [CustomerFactory() for _ in range(8)]
    for i, customer in enumerate(customers):
        for n in range(i % 3 + 1):
            order_on(customer=customer, user=seller, days_ago=5 * i + 30 * n, total=100 * (i + 1), now=NOW)
    customer_snapshot_rebuild(now=NOW)
    changed = customers[1:7]
    for customer in changed:
        order_on(customer=customer, user=seller, days_ago=2, total="250.00", now=NOW)
    ComplaintFactory(customer=changed[0])
    columns = ["customer_id", "orders_count", "gross_total", "orders_12m", "gross_12m", "last_order_at", "complaints_count"]
    month_columns = ["customer_id", "month", "orders", "gross", "is_first_month"]

    with CaptureQueriesContext(connection) as few:
        refresh_customers([customer.pk for customer in changed[:2]])
    with CaptureQueriesContext(connection) as many:
        refresh_customers([customer.pk for customer in changed] + [changed[0].pk])  # a customer marked twice
    assert len(many.captured_queries) == len(few.captured_queries)
    refreshed = set(CustomerSnapshot.objects.values_list(*columns))
    months = set(CustomerMonth.objects.values_list(*month_columns))
    assert {row[0]: row[1] for row in refreshed}[changed[0].pk] == 3  # its own orders and the new one

    customer_snapshot_rebuild(now=NOW)
    assert set(CustomerSnapshot.objects.values_list(*columns)) == refreshed
    assert set(CustomerMonth.objects.values_list(*month_columns)) == months


def test_a_refresh_keeps_the_rebuilds_bounds(seller):
    customers = [CustomerFactory() for _ in range(5)]
    for i, customer in enumerate(customers):
        order_on(customer=customer, user=seller, days_ago=10 * (i + 1), total=100 * (i + 1), now=NOW)
    customer_snapshot_rebuild(now=NOW)
    bounds = RfmBounds.objects.values("frequency_bounds", "monetary_bounds", "recency_cuts").get()
    order_on(customer=customers[0], user=seller, days_ago=1, total="100000.00", now=NOW)
    customer_snapshot_refresh_many(customer_ids=[customers[0].pk], now=NOW)
    assert RfmBounds.objects.values("frequency_bounds", "monetary_bounds", "recency_cuts").get() == bounds
    assert scores(customers[0]) == (5, 5, 5)  # above every bound now
    assert scores(customers[1]) == (4, 1, 2)  # untouched until the next rebuild


def test_refresh_is_safe_to_run_twice_and_rebuild_records_when(seller):
    customer = CustomerFactory()
    order_on(customer=customer, user=seller, days_ago=5, now=NOW)
    customer_snapshot_refresh_many(customer_ids=[customer.pk], now=NOW)
    customer_snapshot_refresh_many(customer_ids=[customer.pk], now=NOW)
    assert CustomerSnapshot.objects.filter(customer=customer).count() == 1
    assert CustomerMonth.objects.filter(customer=customer).count() == 1
    state = SnapshotState.objects.get(name="customers")
    assert state.refreshed_at == NOW and state.rebuilt_at is None
    customer_snapshot_rebuild(now=NOW + timedelta(hours=1))
    customer_snapshot_rebuild(now=NOW + timedelta(hours=1))
    state.refresh_from_db()
    assert state.rebuilt_at == NOW + timedelta(hours=1)
    assert CustomerSnapshot.objects.filter(customer=customer).count() == 1

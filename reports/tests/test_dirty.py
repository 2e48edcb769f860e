"""Report rows refreshed in batches (reports.dirty): events only mark, the batch refreshes, nothing marked is lost."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from reports import dirty
from reports.customers.models import CustomerSnapshot
from reports.cycles.models import OrderCycle
from reports.models import DirtyKey, SnapshotState
from reports.sales.models import SalesOrderFact
from reports.tasks import refresh_dirty
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def batched(settings):
    """Batches as in production (the tests' default refreshes at once)."""
    settings.REPORTS_BATCH_SECONDS = 3600
    return settings


@pytest.fixture
def tea(db):
    warehouse = WarehouseFactory(code="SH", priority=1)
    return stocked_product(stock={warehouse: 100}, sku="TEA-1", list_price=Decimal("100.00"), cost=Decimal("60.00"))


def _marks(area: str) -> set[int]:
    return set(DirtyKey.objects.filter(area=area).values_list("key", flat=True))


def test_every_area_names_a_refresher_a_key_and_known_transitions():
    from orders.models import SalesOrder

    transitions = {name for name in dir(SalesOrder) if callable(getattr(SalesOrder, name, None))}
    for area, spec in settings.REPORTS_BATCHED_AREAS.items():
        assert spec["key"] in {"order", "customer"}, area
        assert callable(dirty._refresher(spec["refresh"])), area
        assert set(spec["order_transitions"]) <= transitions, area
    for topic in dirty.order_transition_topics():
        assert settings.OUTBOX_HANDLERS[topic].count("reports.dirty.order_changed") == 1, topic


def test_order_events_only_mark_and_the_batch_refreshes_every_area(batched, tea):
    order = approved_order(lines=[(tea, 2)])
    outbox_dispatch()
    assert _marks("sales") == _marks("cycles") == {order.pk}
    assert _marks("customers") == {order.customer_id}
    assert not SalesOrderFact.objects.exists() and not OrderCycle.objects.exists()

    before = timezone.now()
    waiting = {area: DirtyKey.objects.filter(area=area).count() for area in ("sales", "cycles", "customers")}
    assert refresh_dirty.apply(throw=True).result == waiting
    assert not DirtyKey.objects.exists()
    assert SalesOrderFact.objects.filter(order=order).exists()
    assert OrderCycle.objects.filter(order=order).exists()
    assert CustomerSnapshot.objects.get(customer_id=order.customer_id).orders_count == 1
    # "Data as of" is when the marks were taken, for each area.
    for area in ("sales", "cycles", "customers"):
        as_of = SnapshotState.objects.get(name=area).refreshed_at
        assert before <= as_of <= timezone.now()
    assert refresh_dirty.apply(throw=True).result == {"sales": 0, "cycles": 0, "customers": 0}  # twice: nothing left


def test_marking_an_order_event_is_one_statement_whatever_the_order(batched, tea):
    from config.outbox import OutboxEvent

    small = approved_order(lines=[(tea, 1)])
    large = approved_order(lines=[(stocked_product(stock={}), 1) for _ in range(20)])
    DirtyKey.objects.all().delete()
    for order in (small, large):
        event = OutboxEvent(topic="orders.salesorder.pass_checks", payload={"id": order.pk})
        with count_queries() as queries:
            dirty.order_changed(event.payload, event=event)
        assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert _marks("sales") == _marks("cycles") == {small.pk, large.pk}
    assert _marks("customers") == {small.customer_id, large.customer_id}
    assert DirtyKey.objects.count() == 6


def test_a_failing_area_keeps_its_marks_and_the_others_are_refreshed(batched, tea, monkeypatch):
    order = approved_order(lines=[(tea, 1)])
    outbox_dispatch()

    def broken(order_ids):
        raise RuntimeError("the refresh broke")

    monkeypatch.setitem(settings.REPORTS_BATCHED_AREAS, "sales", {**settings.REPORTS_BATCHED_AREAS["sales"], "refresh": "x"})
    monkeypatch.setattr(dirty, "_refresher", lambda path: broken if path == "x" else dirty.import_string(path))
    done = dirty.dirty_refresh()
    assert done["sales"] == 0 and done["cycles"] > 0 and done["customers"] > 0
    assert _marks("sales") == {order.pk}  # kept for the next run
    assert not _marks("cycles") and not _marks("customers")


def test_a_mark_made_while_its_batch_runs_waits_for_the_next_batch(batched, tea, monkeypatch):
    order = approved_order(lines=[(tea, 1)])
    outbox_dispatch()
    refresh = dirty._refresher(settings.REPORTS_BATCHED_AREAS["cycles"]["refresh"])

    def marked_again_meanwhile(order_ids):
        refresh(order_ids)
        dirty.dirty_mark(area="cycles", keys=order_ids)  # another event of the same order, after the rows were read

    monkeypatch.setattr(dirty, "_refresher", lambda path: marked_again_meanwhile if "cycles" in path else refresh)
    taken = DirtyKey.objects.filter(area="cycles").count()
    assert dirty.dirty_refresh_area("cycles") == taken
    assert DirtyKey.objects.filter(area="cycles").count() == 1  # the new mark only
    assert _marks("cycles") == {order.pk}


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_mark_starts_a_batch_in_a_thread_after_the_interval(settings, tea):
    settings.REPORTS_BATCH_SECONDS = 1
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker (the suite may run with REDIS_URL set)
    started = time.monotonic()
    order = approved_order(lines=[(tea, 1)])
    outbox_dispatch()  # each handler's transaction commits: the first mark starts the process's batch
    timer = dirty._timer
    assert timer is not None
    assert DirtyKey.objects.filter(area="cycles", key=order.pk).exists()  # not refreshed yet: the request went on
    timer.join(timeout=60)
    assert time.monotonic() - started >= 1
    assert dirty._timer is None
    assert not DirtyKey.objects.exists()
    assert OrderCycle.objects.filter(order=order).exists()
    assert CustomerSnapshot.objects.get(customer_id=order.customer_id).orders_count == 1


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_mark_starts_no_thread_the_beat_task_refreshes(settings, tea):
    settings.REPORTS_BATCH_SECONDS = 1
    settings.CELERY_TASK_ALWAYS_EAGER = False
    order = approved_order(lines=[(tea, 1)])
    outbox_dispatch()
    assert dirty._timer is None
    assert DirtyKey.objects.filter(area="cycles", key=order.pk).exists()
    dirty.dirty_refresh()
    assert not DirtyKey.objects.exists() and OrderCycle.objects.filter(order=order).exists()


def test_with_no_interval_a_mark_is_refreshed_in_its_handler(settings, tea):
    settings.REPORTS_BATCH_SECONDS = 0
    order = approved_order(lines=[(tea, 1)])
    outbox_dispatch()
    assert not DirtyKey.objects.exists()
    assert SalesOrderFact.objects.filter(order=order).exists()


def test_the_batch_is_scheduled_at_its_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["reports-refresh-dirty"]
    assert entry["task"] == "reports.refresh_dirty"
    assert entry["schedule"] == float(settings.REPORTS_BATCH_SECONDS or 30)

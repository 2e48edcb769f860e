"""The full recompute of the cycle snapshot (cycles_nightly(full=True)): every row computed afresh and compared
with the snapshot, only the rows that differ written, nothing emptied, and an order refreshed meanwhile not undone."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Count

from orders.models import OrderEvent, ReviewRule
from reports import patching
from reports.cycles import refresh
from reports.cycles.models import (
    CycleStageTime,
    CycleWeek,
    DeliveryDay,
    OrderCycle,
    ReviewCase,
    ReviewDay,
    ReviewFlag,
    Stage,
)
from reports.cycles.refresh import cycles_nightly, cycles_rebuild, cycles_recompute, cycles_refresh_orders
from reports.cycles.tasks import rebuild_cycles
from reports.models import SnapshotState
from reports.snapshots import snapshot_read

from .factories import PAID, approved_in, at, timeline_order
from .test_nightly import advance
from .test_snapshot import snapshot_contents

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the compare is PostgreSQL's (SQLite rebuilds)")

MONDAY = date(2026, 3, 2)
SEVEN = (OrderCycle, ReviewCase, ReviewFlag, CycleStageTime, DeliveryDay, ReviewDay, CycleWeek)


@pytest.fixture
def orders(make_user):
    """Orders that put rows in every one of the seven tables, for two salespeople over two weeks."""
    sellers = [make_user("sales"), make_user("sales")]
    reviewer = make_user("reviewer")
    made = {}
    for n in range(6):
        seller = sellers[n % 2]
        made[f"approved{n}"] = approved_in(by=seller, submitted=at(MONDAY + timedelta(days=n * 2)), hours=n + 1)
    for n in range(3):
        seller = sellers[n % 2]
        t0 = at(MONDAY + timedelta(days=n))
        made[f"delivered{n}"] = timeline_order(
            by=seller,
            requested_date=MONDAY + timedelta(days=3),
            payment_status="paid",
            flags=[ReviewRule.CREDIT, ReviewRule.PRICE],
            steps=[
                ("submitted", t0),
                ("in_review", t0),
                ("approved", t0 + timedelta(hours=5), reviewer),
                ("allocated", t0 + timedelta(hours=6)),
                ("shipped", t0 + timedelta(days=1)),
                ("delivered", t0 + timedelta(days=2 + n * 2)),
                (PAID, t0 + timedelta(days=9)),
            ],
        )
    made["allocated"] = timeline_order(
        by=sellers[0],
        steps=[("submitted", at(MONDAY)), ("approved", at(MONDAY, 10)), ("allocated", at(MONDAY, 12))],
        requested_date=MONDAY + timedelta(days=3),
    )
    made["waiting"] = timeline_order(
        by=sellers[1], flags=[ReviewRule.AMOUNT], steps=[("submitted", at(MONDAY)), ("in_review", at(MONDAY))]
    )
    return made


def rows_written() -> dict[str, int]:
    """Rows inserted, updated and deleted in each of the seven tables by this transaction so far (PostgreSQL's
    own counters, not what the recompute says it wrote)."""
    tables = {model._meta.db_table: model.__name__ for model in SEVEN}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )
        written = {tables[name]: count for name, count in cursor.fetchall()}
    return {name: written.get(name, 0) for name in tables.values()}


def written_by(action) -> dict[str, int]:
    before = rows_written()
    action()
    after = rows_written()
    return {name: after[name] - before[name] for name in after}


@pytest.mark.django_db
def test_every_table_is_non_empty_in_the_fixture(orders):
    """The other tests tamper with three rows of each table, of three orders where the table has orders' rows."""
    cycles_rebuild()
    assert {model.__name__: len(three_rows(model)) for model in SEVEN} == dict.fromkeys((m.__name__ for m in SEVEN), 3)


@pytest.mark.django_db
def test_a_full_recompute_writes_what_a_fresh_rebuild_writes(orders, make_user):
    cycles_nightly()  # the first build
    # The business rows move on and no event is handled: new orders, orders further along, a corrected timeline.
    advance(orders["allocated"], "shipped")
    advance(orders["allocated"], "delivered")
    advance(orders["approved0"], "paid", payment=True)
    approved_in(by=make_user("sales"), submitted=at(MONDAY + timedelta(days=15)), hours=30)
    OrderEvent.objects.filter(order=orders["waiting"], to_state="in_review").update(at=at(MONDAY + timedelta(days=1)))
    outcome = cycles_nightly(full=True)
    assert outcome["rebuilt"] is True
    assert outcome["written"]["OrderCycle"] > 0
    recomputed = snapshot_contents()
    cycles_rebuild()
    assert recomputed == snapshot_contents()


@pytest.mark.django_db
def test_nothing_is_written_when_nothing_differs(orders):
    cycles_rebuild()
    built = snapshot_contents()
    reported = {}
    written = written_by(lambda: reported.update(cycles_recompute()))
    assert written == dict.fromkeys(written, 0)
    assert reported == dict.fromkeys(written, 0)
    assert snapshot_contents() == built


def three_rows(model) -> list:
    """Three rows of the table; of three different orders where its rows are orders'."""
    rows, orders = [], set()
    for row in model.objects.order_by("pk"):
        order = getattr(row, "order_id", row.pk)
        if order not in orders:
            rows.append(row)
            orders.add(order)
    return rows[:3]


# (table, a value column and a wrong value for it, what makes a copy of a row an extra one)
TAMPERING = [
    (OrderCycle, {"status": "cancelled"}, {"order_id": 10**9}),
    (ReviewCase, {"outcome": "rejected"}, {}),  # an exact copy: its order has one row too many
    (ReviewFlag, {"day": MONDAY - timedelta(days=100)}, {"rule": "bogus"}),
    (CycleStageTime, {"seconds": 1}, {}),
    (DeliveryDay, {"delivered": 99}, {"day": MONDAY + timedelta(days=400)}),
    (ReviewDay, {"flagged": 99}, {"salesperson_id": 10**9}),
    (CycleWeek, {"p90_seconds": 0.5}, {"week": MONDAY + timedelta(days=7 * 60)}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "wrong", "extra"), TAMPERING, ids=[model.__name__ for model, *_rest in TAMPERING])
def test_a_tampered_a_deleted_and_an_extra_row_are_repaired_and_nothing_else_is_written(orders, model, wrong, extra):
    cycles_rebuild()
    built = snapshot_contents()
    first, second, third = three_rows(model)
    model.objects.filter(pk=first.pk).update(**wrong)
    model.objects.filter(pk=second.pk).delete()
    copy = model.objects.get(pk=third.pk)
    if model is OrderCycle:
        copy.order_id = extra["order_id"]
    else:
        copy.pk = None
        for name, value in extra.items():
            setattr(copy, name, value)
    copy._state.adding = True
    copy.save(force_insert=True)
    assert snapshot_contents() != built

    reported = {}
    written = written_by(lambda: reported.update(cycles_recompute()))

    assert snapshot_contents() == built
    name = model.__name__
    assert written == reported
    # The three rows deleted or inserted (a table without a key: every row of their orders), and no other table.
    rows_of_their_orders = 1
    if model in (ReviewCase, CycleStageTime):
        rows_of_their_orders = max(
            model.objects.filter(order_id__in={first.order_id, second.order_id, third.order_id})
            .values("order_id")
            .annotate(n=Count("pk"))
            .values_list("n", flat=True)
        )
    assert 3 <= written[name] <= 2 * 3 * rows_of_their_orders
    assert {other: count for other, count in written.items() if other != name} == dict.fromkeys(set(written) - {name}, 0)


@pytest.mark.django_db
def test_the_first_build_of_an_empty_snapshot_fills_it_even_when_asked_in_full(orders, monkeypatch):
    recomputed = []
    monkeypatch.setattr(refresh, "cycles_recompute", lambda **kwargs: recomputed.append(kwargs))
    outcome = cycles_nightly(full=True)
    assert outcome == {"rebuilt": True, "refreshed": 0}
    assert recomputed == [] and OrderCycle.objects.count() == len(orders)


def test_the_beat_runs_the_nightly_task_in_full_as_the_setting_says(settings):
    assert settings.CELERY_BEAT_SCHEDULE["reports-cycles-rebuild"]["kwargs"] == {"full": settings.REPORTS_NIGHTLY_FULL}


@pytest.mark.django_db
def test_the_nightly_task_recomputes_in_full_when_asked(orders):
    cycles_rebuild()
    built = snapshot_contents()
    CycleStageTime.objects.filter(stage=Stage.SUBMIT_APPROVE).update(seconds=7)  # no order changed: a nightly run keeps it
    rebuild_cycles.apply(kwargs={"full": True}, throw=True)
    assert snapshot_contents() == built
    assert SnapshotState.objects.get(name="cycles").rebuilt_at is not None


# --- concurrency: committed rows and real connections ----------------------------------------------------------


def _pausing(monkeypatch, module, name: str):
    """Make module.name wait, when first called, until the test lets it go on; (paused, go_on) events."""
    paused, go_on = threading.Event(), threading.Event()
    original = getattr(module, name)

    def wait_then_call(*args, **kwargs):
        if not paused.is_set():
            paused.set()
            assert go_on.wait(timeout=60), "the test never let the recompute go on"
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wait_then_call)
    return paused, go_on


def _in_thread(job) -> tuple[threading.Thread, list]:
    errors: list[BaseException] = []

    def run():
        try:
            job()
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _waits_on_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND wait_event = 'advisory')"
        )
        return cursor.fetchone()[0]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_order_refreshed_during_a_full_recompute_is_not_undone(orders):
    cycles_rebuild()
    order = orders["allocated"]
    advance(order, "shipped")  # not refreshed: the recompute finds its row out of date and sets the new one aside
    with pytest.MonkeyPatch.context() as monkeypatch:
        paused, go_on = _pausing(monkeypatch, patching, "_write_differences")
        recompute, recompute_errors = _in_thread(cycles_recompute)
        assert paused.wait(timeout=60)
        # Meanwhile the order is delivered and its event handled: the refresh reads the delivery.
        advance(order, "delivered")
        handler, handler_errors = _in_thread(lambda: cycles_refresh_orders(order_ids=[order.pk]))
        deadline = time.monotonic() + 30
        while handler.is_alive() and not _waits_on_an_advisory_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        go_on.set()
        recompute.join(timeout=60)
        handler.join(timeout=60)
    assert not recompute.is_alive() and not handler.is_alive()
    assert recompute_errors == [] and handler_errors == []
    assert OrderCycle.objects.get(order_id=order.pk).status == "delivered"
    kept = snapshot_contents()
    cycles_rebuild()
    assert kept == snapshot_contents()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_readers_read_the_old_rows_without_waiting_while_a_full_recompute_writes(orders):
    cycles_rebuild()
    for model in SEVEN:  # a row of each table differs from what the recompute will compute
        first = model.objects.order_by("pk").first()
        model.objects.filter(pk=first.pk).delete()
    before = snapshot_contents()

    with pytest.MonkeyPatch.context() as monkeypatch:
        # Every table written, not yet committed.
        paused, go_on = _pausing(monkeypatch, refresh, "snapshot_touch")
        recompute, errors = _in_thread(cycles_recompute)
        assert paused.wait(timeout=60)
        try:
            read = snapshot_read(snapshot_contents, default="waited", wait_ms=200)
        finally:
            go_on.set()
            recompute.join(timeout=60)
    assert errors == []
    assert read == before
    assert snapshot_contents() != before

"""The daily stock snapshot against the ledger: a full rebuild, the incremental refresh after each
movement and the reconciliation with the stock rows all give the rows the ledger says, day by day."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from config.outbox import outbox_dispatch
from inventory.models import MovementKind, Product, StockLevel
from inventory.stock.services import stock_post_movement
from inventory.tests.factories import ProductFactory, WarehouseFactory, stock_put, stock_take
from reports.models import SnapshotState
from reports.stock.models import StockDay, StockTotalDay
from reports.stock.selectors import (
    dead_stock,
    product_figures,
    rows_at,
    slow_movers,
    stock_figures,
    stockouts,
    warehouse_levels,
    warehouse_series,
)
from reports.stock.snapshot import (
    local_today,
    stock_snapshot_nightly,
    stock_snapshot_rebuild,
    stock_snapshot_reconcile,
    stock_snapshot_refresh,
)

pytestmark = pytest.mark.django_db

D1 = date(2026, 3, 1)
D = Decimal


def day(n: int) -> date:
    """Day n of the test's month (day(1) is 1 March 2026)."""
    return D1 + timedelta(days=n - 1)


def snapshot_rows() -> list[tuple]:
    fields = [f.attname for f in StockDay._meta.concrete_fields if f.attname != "id"]
    return sorted(StockDay.objects.values_list(*fields), key=lambda row: (row[0], row[1] or 0, row[2]))


def total_rows() -> list[tuple]:
    fields = [f.attname for f in StockTotalDay._meta.concrete_fields if f.attname != "id"]
    return sorted(StockTotalDay.objects.values_list(*fields), key=lambda row: (row[0] or 0, row[1]))


@pytest.fixture
def place():
    """Two warehouses and a product costing 10.00."""
    return {
        "a": WarehouseFactory(code="A"),
        "b": WarehouseFactory(code="B"),
        "p": ProductFactory(sku="P-1", cost=D("10.00")),
    }


@pytest.fixture
def record_rebuilds(monkeypatch):
    """From when it is called, the calls of the snapshot's rebuild of rows (each its keyword arguments) are recorded
    in the list it returns; they still rebuild."""
    from reports.stock import snapshot

    def record() -> list[dict]:
        calls: list[dict] = []
        rebuild_rows = snapshot._rebuild_rows
        monkeypatch.setattr(snapshot, "_rebuild_rows", lambda **kwargs: calls.append(kwargs) or rebuild_rows(**kwargs))
        return calls

    return record


@pytest.fixture
def history(clock, place):
    """P-1: in A 10 received on day 1, 4 shipped on day 3, 6 shipped on day 6 (out), 3 received on day 8;
    in B 5 received on day 3. Today is day 10."""
    a, b, p = place["a"], place["b"], place["p"]
    clock.set(day(1))
    stock_put(product=p, warehouse=a, quantity=10)
    clock.set(day(3))
    stock_take(product=p, warehouse=a, quantity=4)
    stock_put(product=p, warehouse=b, quantity=5)
    clock.set(day(6))
    stock_take(product=p, warehouse=a, quantity=6)
    clock.set(day(8))
    stock_put(product=p, warehouse=a, quantity=3)
    clock.set(day(10))
    return place


def test_rebuild_writes_a_row_per_day_that_changed_with_the_ledgers_levels(history):
    a, b, p = history["a"], history["b"], history["p"]
    stock_snapshot_rebuild()
    in_a = list(StockDay.objects.filter(warehouse=a).order_by("day").values_list("day", "on_hand", "shipped", "value"))
    assert in_a == [
        (day(1), 10, 0, D("100.00")),
        (day(3), 6, 4, D("60.00")),
        (day(6), 0, 6, D("0.00")),
        (day(8), 3, 0, D("30.00")),
    ]
    everywhere = list(StockDay.objects.filter(product=p, warehouse__isnull=True).order_by("day").values_list("day", "on_hand"))
    assert everywhere == [(day(1), 10), (day(3), 11), (day(6), 5), (day(8), 8)]
    assert list(StockDay.objects.filter(warehouse=b).values_list("day", "on_hand")) == [(day(3), 5)]
    assert SnapshotState.objects.get(name="stock").rebuilt_at is not None


def test_integrals_give_average_stock_days_out_and_shipments_of_any_period(history):
    a = history["a"]
    stock_snapshot_rebuild()
    [row] = product_figures(start=day(2), end=day(9), warehouse_id=a.pk)
    # End of day on hand in A, days 2..9: 10, 6, 6, 6, 0, 0, 3, 3 = 34 unit-days over 8 days.
    assert row["average_on_hand"] == D("4.25")
    assert row["average_value"] == D("42.50")
    assert row["days_out"] == 2  # days 6 and 7
    assert row["shipped"] == 10
    assert row["shipped_value"] == D("100.00")
    assert row["turnover"] == D("2.35")  # 100.00 / 42.50
    assert row["on_hand"] == 3 and row["last_shipped_on"] == day(6)
    # Per day 10 / 8 shipped: 3 on hand last 2.4 days.
    assert row["days_of_cover"] == D("2.40")
    [everywhere] = product_figures(start=day(2), end=day(9))
    assert everywhere["days_out"] == 0  # B held 5 throughout
    assert everywhere["on_hand"] == 8


def test_a_period_ending_in_the_future_counts_only_until_today(history):
    stock_snapshot_rebuild()
    [row] = product_figures(start=day(9), end=day(30), warehouse_id=history["a"].pk)
    assert row["average_on_hand"] == D("3.00")  # days 9 and 10 only


def test_refreshing_after_every_movement_gives_what_a_rebuild_gives(clock, place):
    """Random receipts, shipments and adjustments over 20 days in two warehouses, each day refreshed
    as the outbox handler would; the rows and totals equal a rebuild from the ledger."""
    products = [place["p"], ProductFactory(sku="P-2", cost=D("2.50")), ProductFactory(sku="P-3", cost=D("0.99"))]
    warehouses = [place["a"], place["b"]]
    rng = random.Random(20260301)
    for n in range(1, 21):
        clock.set(day(n), hour=9)
        touched = set()
        for _ in range(rng.randint(0, 5)):
            product, warehouse = rng.choice(products), rng.choice(warehouses)
            level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
            on_hand = level.on_hand if level else 0
            kind = rng.choice(["in", "out", "adjust"])
            if kind == "in" or on_hand == 0:
                stock_put(product=product, warehouse=warehouse, quantity=rng.randint(1, 20))
            elif kind == "out":
                stock_take(product=product, warehouse=warehouse, quantity=rng.randint(1, on_hand))
            else:
                stock_post_movement(
                    product=product, warehouse=warehouse, kind=MovementKind.ADJUSTMENT, quantity=-rng.randint(1, on_hand)
                )
            touched.add(product.pk)
        if rng.random() < 0.3:  # a day's refresh comes after midnight
            clock.set(day(n + 1), hour=0, minute=5)
        stock_snapshot_refresh(product_ids=touched, since=day(n))
    clock.set(day(21))
    incremental, incremental_totals = snapshot_rows(), total_rows()
    assert incremental, "the refresh wrote nothing"
    stock_snapshot_rebuild()
    assert snapshot_rows() == incremental
    assert total_rows() == incremental_totals


def test_totals_are_the_sum_of_the_products_on_every_day(clock, place):
    a, b, p = place["a"], place["b"], place["p"]
    q = ProductFactory(sku="P-2", cost=D("3.00"))
    clock.set(day(1))
    stock_put(product=p, warehouse=a, quantity=5)
    stock_put(product=q, warehouse=b, quantity=7)
    clock.set(day(2))
    stock_take(product=p, warehouse=a, quantity=5)
    clock.set(day(4))
    stock_put(product=q, warehouse=a, quantity=1)
    clock.set(day(5))
    stock_snapshot_rebuild()
    for n in range(1, 6):
        levels = {row["warehouse_id"]: row for row in warehouse_levels(day=day(n))}
        for warehouse_id in (a.pk, b.pk, None):
            rows = rows_at(day(n), warehouse_id=warehouse_id).values()
            assert levels[warehouse_id]["on_hand"] == sum(r["on_hand"] for r in rows)
            assert levels[warehouse_id]["value"] == sum((r["value"] for r in rows), D("0"))
            assert levels[warehouse_id]["products_out"] == sum(1 for r in rows if r["on_hand"] <= 0)
    assert levels[None]["value"] == D("24.00")  # 8 of Q at 3.00; P is out everywhere
    assert levels[None]["products_out"] == 1
    series = warehouse_series(start=day(1), end=day(5), grain="day", warehouse_ids=[a.pk])
    assert [point["value"] for point in series["warehouses"][a.pk]] == [D("50.00"), D("0.00"), D("0.00"), D("3.00"), D("3.00")]
    assert [point["shipped"] for point in series["warehouses"][a.pk]] == [0, 5, 0, 0, 0]


def test_reserved_stock_changing_without_a_movement_gets_todays_row_from_the_reconciliation(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    StockLevel.objects.filter(product=p, warehouse=a).update(reserved=F("reserved") + 2)
    assert stock_snapshot_reconcile() == [p.pk]
    today = StockDay.objects.get(product=p, warehouse=a, day=day(10))
    assert (today.on_hand, today.reserved, today.opening_reserved, today.shipped) == (3, 2, 0, 0)
    assert StockDay.objects.get(product=p, warehouse__isnull=True, day=day(10)).reserved == 2
    assert stock_figures()["units_on_hand"] == 8
    assert stock_snapshot_reconcile() == []  # nothing left to do


def test_a_refresh_that_finds_the_snapshot_behind_the_ledger_rebuilds_the_product(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    clock.set(day(11))
    stock_take(product=p, warehouse=a, quantity=1)  # its refresh is lost
    clock.set(day(12))
    stock_put(product=p, warehouse=a, quantity=4)
    stock_snapshot_refresh(product_ids=[p.pk], since=day(12))
    after_refresh = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after_refresh
    assert StockDay.objects.get(product=p, warehouse=a, day=day(11)).on_hand == 2


def test_the_outbox_event_of_a_movement_refreshes_the_snapshot(place, django_capture_on_commit_callbacks):
    # On the real clock: the outbox's events fall due by it.
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(product=place["p"], warehouse=place["a"], quantity=3)
    outbox_dispatch()
    row = StockDay.objects.get(product=place["p"], warehouse=place["a"])
    assert (row.day, row.on_hand, row.value) == (local_today(), 3, D("30.00"))
    assert stock_figures()["stock_value"] == D("30.00")


def test_a_rebuild_keeps_the_cost_and_reserved_a_day_was_written_with(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    StockLevel.objects.filter(product=p, warehouse=a).update(reserved=1)
    stock_snapshot_reconcile()
    Product.objects.filter(pk=p.pk).update(cost=D("12.00"))
    clock.set(day(11))
    stock_put(product=p, warehouse=a, quantity=1)
    stock_snapshot_rebuild()
    assert StockDay.objects.get(product=p, warehouse=a, day=day(8)).unit_cost == D("10.00")
    day10 = StockDay.objects.get(product=p, warehouse=a, day=day(10))
    assert (day10.reserved, day10.unit_cost) == (1, D("10.00"))
    day11 = StockDay.objects.get(product=p, warehouse=a, day=day(11))
    assert (day11.on_hand, day11.unit_cost, day11.value, day11.reserved) == (4, D("12.00"), D("48.00"), 1)


def test_slow_movers_dead_stock_and_stockouts_follow_their_thresholds(clock, place):
    a = place["a"]
    fast, slow, dead, gone = (ProductFactory(sku=f"S-{n}", cost=D("1.00")) for n in range(4))
    clock.set(day(1))
    for product, quantity in ((fast, 10), (slow, 100), (dead, 50), (gone, 2)):
        stock_put(product=product, warehouse=a, quantity=quantity)
    clock.set(day(5))
    stock_take(product=fast, warehouse=a, quantity=8)  # 2 left, 8 in 10 days: 2.5 days of cover
    stock_take(product=slow, warehouse=a, quantity=1)  # 99 left at 0.1 a day: 990 days
    stock_take(product=gone, warehouse=a, quantity=2)  # out from day 5
    clock.set(day(10))
    stock_snapshot_rebuild()
    figures = product_figures(start=day(1), end=day(10), warehouse_id=a.pk)
    assert [f["sku"] for f in slow_movers(figures, cover_days=180)] == ["S-1"]
    assert slow_movers(figures, cover_days=1000) == []
    assert [(f["sku"], f["idle_days"]) for f in dead_stock(figures, end=day(10), idle_days=6)] == [("S-2", None)]
    # With a 3-day window the products last shipped on day 5 are idle too.
    assert [f["sku"] for f in dead_stock(figures, end=day(10), idle_days=3)] == ["S-1", "S-2", "S-0"]
    assert [(f["sku"], f["days_out"]) for f in stockouts(figures)] == [("S-3", 6)]


def test_the_nightly_run_derives_the_last_days_again_and_repairs_what_disagrees(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    clock.set(day(11))
    stock_take(product=p, warehouse=a, quantity=1)
    stock_snapshot_refresh(product_ids=[p.pk])
    q = ProductFactory(sku="P-2", cost=D("1.00"))
    clock.set(day(12))
    stock_put(product=q, warehouse=a, quantity=9)  # its event is never handled
    StockDay.objects.filter(product=p, warehouse=a, day=day(11)).update(shipped=7)  # a recent row gone wrong
    clock.set(day(12), hour=23)
    outcome = stock_snapshot_nightly()
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert StockDay.objects.get(product=p, warehouse=a, day=day(11)).shipped == 1
    assert StockDay.objects.get(product=q, warehouse=a, day=day(12)).on_hand == 9
    assert outcome["refreshed"] == 2
    assert SnapshotState.objects.get(name="stock").rebuilt_at is not None


def test_the_nightly_run_builds_an_empty_snapshot_in_full(history):
    outcome = stock_snapshot_nightly()
    assert outcome["built"] == StockDay.objects.count() == 9  # 4 days in A, 1 in B, 4 everywhere
    assert stock_figures()["units_on_hand"] == 8


def test_goods_shipped_are_costed_at_the_cost_of_the_day_they_left(clock, place):
    a, p = place["a"], place["p"]
    clock.set(day(1))
    stock_put(product=p, warehouse=a, quantity=10)
    stock_take(product=p, warehouse=a, quantity=2)  # at 10.00
    Product.objects.filter(pk=p.pk).update(cost=D("13.00"))
    p.refresh_from_db()
    clock.set(day(2))
    stock_take(product=p, warehouse=a, quantity=1)  # at 13.00
    stock_snapshot_refresh(product_ids=[p.pk], since=day(1))
    refreshed = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == refreshed
    [row] = product_figures(start=day(1), end=day(2), warehouse_id=a.pk)
    assert (row["shipped"], row["shipped_value"]) == (3, D("33.00"))


def test_stock_rows_that_differ_from_the_ledger_do_not_make_the_nightly_run_rebuild_the_product(clock, history, record_rebuilds):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    StockLevel.objects.filter(product=p, warehouse=a).update(on_hand=F("on_hand") + 5)  # not what the ledger says
    clock.set(day(11))
    stock_take(product=p, warehouse=a, quantity=1)
    stock_snapshot_refresh(product_ids=[p.pk])
    rebuilds = record_rebuilds()
    clock.set(day(12), hour=23)
    outcome = stock_snapshot_nightly()
    assert (outcome["refreshed"], outcome["repaired"], outcome["reconciled"], rebuilds) == (1, [], [p.pk], [])
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert StockDay.objects.get(product=p, warehouse=a, day=day(11)).on_hand == 2  # the ledger's, not the stock row's


def test_the_nightly_run_rebuilds_a_product_whose_rows_are_behind_the_ledger_before_its_last_days(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    clock.set(day(11))
    stock_take(product=p, warehouse=a, quantity=1)  # its refresh is lost
    clock.set(day(20))
    stock_put(product=p, warehouse=a, quantity=2)  # its refresh is lost too: the nightly run finds both
    clock.set(day(20), hour=23)
    outcome = stock_snapshot_nightly()
    assert outcome["repaired"] == [p.pk]
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert StockDay.objects.get(product=p, warehouse=a, day=day(11)).on_hand == 2
    assert StockDay.objects.get(product=p, warehouse=a, day=day(20)).on_hand == 4


def test_the_nightly_run_gives_the_rows_a_full_rebuild_gives_for_many_products(clock, place):
    a, b = place["a"], place["b"]
    products = [ProductFactory(sku=f"M-{n}", cost=D(f"{n + 1}.50")) for n in range(6)]
    chance = random.Random(11)
    clock.set(day(1))
    for product in products:
        stock_put(product=product, warehouse=a, quantity=50)
        stock_put(product=product, warehouse=b, quantity=20)
    stock_snapshot_rebuild()
    for n in range(2, 13):
        clock.set(day(n))
        for product in chance.sample(products, 3):
            stock_take(product=product, warehouse=chance.choice([a, b]), quantity=chance.randint(1, 4))
        if n % 3:  # some days' events are handled, others lost
            stock_snapshot_refresh(product_ids=[product.pk for product in products])
    clock.set(day(12), hour=23)
    stock_snapshot_nightly()
    nightly, totals = snapshot_rows(), total_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == nightly
    assert total_rows() == totals


def test_a_product_moved_in_the_ledger_alone_is_taken_as_the_ledger_says(clock, history, record_rebuilds):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    StockLevel.objects.filter(product=p).delete()  # movements loaded without their stock rows
    clock.set(day(11))
    stock_post_movement(product=p, warehouse=a, kind=MovementKind.RECEIPT, quantity=1)
    StockLevel.objects.filter(product=p).delete()
    rebuilds = record_rebuilds()
    clock.set(day(11), hour=23)
    outcome = stock_snapshot_nightly()
    assert (outcome["repaired"], rebuilds) == ([], [])
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert StockDay.objects.get(product=p, warehouse=a, day=day(11)).on_hand == 4


def test_the_full_nightly_run_checks_every_row_against_the_ledger_and_rebuilds_only_the_products_off_it(
    clock, place, record_rebuilds
):
    a, b = place["a"], place["b"]
    products = [ProductFactory(sku=f"F-{n}", cost=D(f"{n + 2}.25")) for n in range(5)]
    chance = random.Random(5)
    clock.set(day(1))
    for product in products:
        stock_put(product=product, warehouse=a, quantity=40)
        stock_put(product=product, warehouse=b, quantity=15)
    for n in range(2, 21):
        clock.set(day(n))
        for product in chance.sample(products, 2):
            stock_take(product=product, warehouse=chance.choice([a, b]), quantity=chance.randint(1, 3))
    stock_snapshot_rebuild()
    clock.set(day(21), hour=23)
    rebuilds = record_rebuilds()

    # Nothing off the ledger: nothing rebuilt, not a row rewritten.
    ids = sorted(StockDay.objects.values_list("pk", flat=True))
    assert stock_snapshot_nightly(full=True)["repaired"] == []
    assert rebuilds == []
    assert sorted(StockDay.objects.values_list("pk", flat=True)) == ids
    right, right_totals = snapshot_rows(), total_rows()

    # Old rows gone wrong (far before the nightly run's last days), one in each way a row can be off.
    one, two, three, four, five = products
    StockDay.objects.filter(product=one, warehouse=a, day=day(1)).update(on_hand=F("on_hand") + 1)
    wrong = StockDay.objects.filter(product=two, warehouse__isnull=True).order_by("day")[3]
    StockDay.objects.filter(pk=wrong.pk).update(cum_value_days=F("cum_value_days") + 1)
    StockDay.objects.filter(product=three, warehouse=b).exclude(day=day(1)).order_by("day").first().delete()
    shipped_on = StockDay.objects.filter(product=four, warehouse=a, shipped__gt=0).order_by("day").first()
    StockDay.objects.filter(pk=shipped_on.pk).update(last_shipped_on=None)
    costed = StockDay.objects.filter(product=five, warehouse=b, shipped__gt=0).order_by("day").first()
    StockDay.objects.filter(pk=costed.pk).update(shipped_value=F("shipped_value") + D("0.01"))
    assert stock_snapshot_nightly()["repaired"] == []  # the last days' check does not reach them
    outcome = stock_snapshot_nightly(full=True)
    assert outcome["repaired"] == sorted(product.pk for product in products)
    assert {tuple(call["product_ids"]) for call in rebuilds} == {tuple(outcome["repaired"])}
    assert snapshot_rows() == right
    assert total_rows() == right_totals

    # The totals alone gone wrong: they are made again from the rows.
    rebuilds.clear()
    StockTotalDay.objects.filter(warehouse=a, day=day(5)).update(value=F("value") + 3)
    assert stock_snapshot_nightly(full=True)["repaired"] == []
    assert total_rows() == right_totals
    assert rebuilds == []


def test_the_full_nightly_run_takes_a_day_moved_in_the_ledger_alone(clock, history):
    a, p = history["a"], history["p"]
    stock_snapshot_rebuild()
    clock.set(day(4))
    stock_take(product=p, warehouse=a, quantity=1)  # a day between two written ones, its refresh lost
    clock.set(day(12), hour=23)
    assert stock_snapshot_nightly(full=True)["repaired"] == [p.pk]
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert StockDay.objects.get(product=p, warehouse=a, day=day(4)).on_hand == 5


@pytest.mark.django_db(transaction=True)
def test_a_big_snapshot_is_checked_on_two_connections_at_once_with_the_same_findings(clock, history, monkeypatch):
    from reports.stock import snapshot

    a, b, p = history["a"], history["b"], history["p"]
    q = ProductFactory(sku="P-2", cost=D("4.00"))
    clock.set(day(2))
    stock_put(product=q, warehouse=b, quantity=7)
    clock.set(day(10))
    stock_snapshot_rebuild()
    StockDay.objects.filter(product=p, warehouse=a, day=day(3)).update(cum_shipped=F("cum_shipped") + 2)
    StockDay.objects.filter(product=q, warehouse__isnull=True).update(on_hand=F("on_hand") + 1)
    threads = []
    check = snapshot._check_on_own_connection
    monkeypatch.setattr(snapshot, "_check_on_own_connection", lambda everywhere: threads.append(everywhere) or check(everywhere))
    monkeypatch.setattr(snapshot, "CONCURRENT_CHECK_ROWS", 0)
    assert snapshot._products_off_the_ledger() == sorted([p.pk, q.pk])
    assert sorted(threads) == [False, True]  # each check on a connection of its own
    assert stock_snapshot_nightly(full=True)["repaired"] == sorted([p.pk, q.pk])
    after = snapshot_rows()
    stock_snapshot_rebuild()
    assert snapshot_rows() == after
    assert snapshot._products_off_the_ledger() == []

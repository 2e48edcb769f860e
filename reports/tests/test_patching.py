"""The full recompute's comparison by fingerprints per bucket of orders (reports.patching), on a table of its own."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from reports.cycles.models import CycleStageTime, Stage
from reports.patching import ORDERS_PER_BUCKET, orders_that_differ, patch_by_order, planner_settings
from reports.sales.models import MarginLineFact, SalesLineFact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the comparison is PostgreSQL's (SQLite rebuilds)"),
]

COLUMNS = ("order_id", "salesperson_id", "stage", "week", "seconds")
WEEK = date(2026, 3, 2)
# Orders in three buckets: 5 and 999 share the first, 1500 the second, 2999 the third.
ROWS = [(5, 1, 10), (999, 1, 20), (1500, 2, 30), (2999, 2, 40), (2999, 2, 40)]


def _values(rows) -> str:
    """A SELECT of stage time rows (order, salesperson, seconds) with the stage and week every one has."""
    stage, week = Stage.SHIP_DELIVER, WEEK.isoformat()
    return " UNION ALL ".join(f"SELECT {order}, {person}, '{stage}', DATE '{week}', {seconds}" for order, person, seconds in rows)


def _write(rows) -> None:
    CycleStageTime.objects.bulk_create(
        CycleStageTime(order_id=order, salesperson_id=person, stage=Stage.SHIP_DELIVER, week=WEEK, seconds=seconds)
        for order, person, seconds in rows
    )


def _orders(only: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT order_id FROM {only} AS ids")
        return {order for (order,) in cursor.fetchall()}


def _differ(select) -> str | None:
    with connection.cursor() as cursor:
        return orders_that_differ(cursor, model=CycleStageTime, columns=COLUMNS, select=select)


def test_a_table_that_equals_its_computation_has_no_order_that_differs():
    _write(ROWS)
    assert _differ(_values(ROWS)) is None
    # The same rows in two arms summed apart.
    assert _differ([_values(ROWS[:2]), _values(ROWS[2:])]) is None


def test_a_changed_a_missing_and_an_extra_row_each_name_every_order_of_their_bucket_and_no_other():
    _write(ROWS)
    size = ORDERS_PER_BUCKET
    changed = [(5, 1, 11), *ROWS[1:]]
    assert _orders(_differ(_values(changed))) == set(range(0, size))
    # One of two alike rows missing: the multiset differs although the set of rows does not.
    assert _orders(_differ(_values(ROWS[:-1]))) == set(range(2 * size, 3 * size))
    # An order far from every other, in a bucket the table has no row in.
    extra = [*ROWS, (7 * size + 123, 3, 50)]
    assert _orders(_differ(_values(extra))) == set(range(7 * size, 8 * size))


def test_patching_by_order_writes_only_the_orders_whose_rows_differ():
    _write(ROWS)
    wanted = [(5, 1, 11), (999, 1, 20), (1500, 2, 30), (2999, 2, 40)]
    kept = set(CycleStageTime.objects.filter(order_id__in=[999, 1500]).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        written = patch_by_order(
            cursor,
            model=CycleStageTime,
            columns=COLUMNS,
            select=lambda only: f"SELECT * FROM ({_values(wanted)}) w (o, p, s, k, n) WHERE o IN {only or '(o)'}",
        )
    rows = sorted(CycleStageTime.objects.values_list("order_id", "salesperson_id", "seconds"))
    assert rows == sorted(wanted)
    # Order 5's row deleted and inserted, one of order 2999's two rows: both orders' rows written again (1 + 2 deleted,
    # 1 + 1 inserted); the orders in the buckets that differ but whose rows agree are left alone.
    assert written == 5
    assert set(CycleStageTime.objects.filter(order_id__in=[999, 1500]).values_list("pk", flat=True)) == kept


def test_planner_settings_are_put_back_after_the_statements_inside():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.001")
        with planner_settings(cursor, parallel_tuple_cost=None, enable_hashagg="off"):
            cursor.execute("SELECT current_setting('parallel_tuple_cost'), current_setting('enable_hashagg')")
            assert cursor.fetchone() == ("0.1", "off")
        cursor.execute("SELECT current_setting('parallel_tuple_cost'), current_setting('enable_hashagg')")
        assert cursor.fetchone() == ("0.001", "on")


@pytest.mark.parametrize("model", [SalesLineFact, MarginLineFact, CycleStageTime], ids=lambda model: model.__name__)
def test_the_fingerprinted_tables_have_statistics_on_their_buckets(model):
    """Without them the planner sums a live table's millions of rows in one process (migration 0011)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxrelid = %s::regclass", [model._meta.db_table]
        )
        definitions = [definition for (definition,) in cursor.fetchall()]
    assert any(f"(order_id / {ORDERS_PER_BUCKET})" in definition for definition in definitions), definitions

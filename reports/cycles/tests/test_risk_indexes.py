"""Counting the orders at risk reads the covering partial index of the open cycle rows (PostgreSQL's EXPLAIN).

The Cycle times page's "orders at risk now" and the Orders at risk queue's count per reason aggregate over every
open row (about 320,000 at a million orders). After the nightly run's VACUUM their pages are all-visible, so the
counts are an index-only scan of `cycle_risk_open_counts`, never the table. As in the other index tests,
sequential scans are switched off on a small table: the plan then shows whether the index serves the count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.cycles.cached import at_risk_now, reason_counts
from reports.cycles.models import OrderCycle
from reports.cycles.refresh import _vacuum_open_rows
from reports.cycles.risk import RiskClock

pytestmark = [
    # Committed rows: VACUUM cannot run inside the test's transaction.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's"),
]

INDEX = "cycle_risk_open_counts"


@pytest.fixture
def cycles():
    """Three thousand cycle rows (by SQL), a third of them still open, vacuumed as the nightly run leaves them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {OrderCycle._meta.db_table} (order_id, salesperson_id, customer_id, status, status_since,
                submitted_at, requested_date, credit_review, risk_open, refreshed_at)
            SELECT g, 1 + g % 5, 1 + g % 40, CASE WHEN g % 3 = 0 THEN 'allocated' ELSE 'completed' END,
                   now() - g * interval '1 hour', now() - g * interval '1 hour', current_date + (g % 30) - 15,
                   FALSE, g % 3 = 0, now()
            FROM generate_series(1, 3000) AS g
            """
        )
    _vacuum_open_rows()
    with connection.cursor() as cursor:
        # Bitmap scans too: on a table this small they win whether or not the pages are all-visible.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")


def _counts_read(read) -> list[str]:
    """The plans of the statements `read` runs over the cycle rows."""
    with CaptureQueriesContext(connection) as captured:
        read()
    plans = []
    for query in captured.captured_queries:
        if OrderCycle._meta.db_table in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(
    ("read", "indexes"),
    [
        (lambda: at_risk_now(), (f"Index Only Scan using {INDEX}",)),
        (lambda: reason_counts(clock=RiskClock.current(), status="allocated"), (f"Index Only Scan using {INDEX}",)),
        # One salesperson's open rows: a range of their own index, or the covering one read alone.
        (lambda: at_risk_now(salesperson_id=2), ("cycle_risk_seller_since", f"Index Only Scan using {INDEX}")),
    ],
    ids=["everyone's count and reasons", "the queue's chips under a status filter", "one salesperson's"],
)
def test_counting_the_orders_at_risk_reads_an_index_of_the_open_rows(cycles, read, indexes):
    plans = _counts_read(read)
    assert plans
    for plan in plans:
        assert any(index in plan for index in indexes), plan
        assert "Seq Scan" not in plan, plan

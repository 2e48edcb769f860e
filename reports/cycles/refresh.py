"""Writing the cycle snapshot: in full every night, and for the orders an event touched in between.

Both ways run the same set-based SQL (INSERT … SELECT … GROUP BY over the orders' timelines, the
shipments, invoices, review findings and delivery exceptions); the incremental one adds
`order_id IN (…)` and then recomputes only the weekly and daily figures whose keys those orders were
or are now counted under. In full, an empty snapshot is filled (cycles_rebuild) and a built one is
computed afresh and compared, only the rows that differ written (cycles_recompute, reports.patching).
Both hold an exclusive advisory lock and the refreshes a shared one, so they never interleave; each key
of a figure table is recomputed under its own lock, so two refreshes of orders in the same week cannot
lose each other's rows.

Stage times: a stage counts in the week it ended. "Submitted" is the order's latest submission, the
others the first time the order reached the state ("shipped": everything left; "delivered": every
shipment delivered); "paid" is when the order's payment status last became paid, if it is paid now.
An order paid before it was delivered waited 0 for its money after delivery.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import CreditNote, Invoice, InvoiceEvent, InvoiceLine
from logistics.exceptions.models import DeliveryException
from logistics.models import Shipment
from orders.models import OrderEvent, OrderStatus, PaymentStatus, ReviewFinding, ReviewRule, SalesOrder
from reports.models import SnapshotState
from reports.patching import patch_by_key, patch_by_order
from reports.snapshots import NIGHTLY_OVERLAP, nightly_refresh, nightly_slice, snapshot_touch

from .dialect import Dialect
from .models import (
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

SNAPSHOT = "cycles"
S = OrderStatus
# Orders the risk queue looks at: still on their way, or owing money (see payment_due).
MOVING = [S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED]
# Everything has left (shipped) / arrived (delivered): where an order without a timeline takes its shipments' times.
SHIPPED_ALL = [S.SHIPPED, S.DELIVERED, S.COMPLETED]
DELIVERED_ALL = [S.DELIVERED, S.COMPLETED]
# The review rules whose flag means the order is held for credit.
CREDIT_RULES = [ReviewRule.CREDIT, ReviewRule.OVERDUE]
_LOCK_NAMESPACE = "reports.cycles"


def _in(values: Iterable[str]) -> str:
    """A SQL list of our own constants (never user input)."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def _ids(order_ids: Sequence[int]) -> str:
    """order ids as a SQL list; int() makes them safe to inline."""
    return "(" + ", ".join(str(int(pk)) for pk in order_ids) + ")"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- the per-order rows -----------------------------------------------------------------------------
ORDER_CYCLE_COLUMNS = (
    "order_id", "salesperson_id", "customer_id", "status", "status_since", "submitted_at", "approved_at", "allocated_at",
    "shipped_at", "delivered_at", "paid_at", "requested_date", "eta", "delivered_on", "payment_due", "exception_since",
    "credit_review", "risk_open", "refreshed_at",
)  # fmt: skip


def _insert_sql(model, columns: tuple[str, ...], select: str) -> str:
    return f"INSERT INTO {_table(model)} ({', '.join(columns)}) {select}"


def _order_cycle_sql(d: Dialect, only: str) -> str:
    """INSERT the OrderCycle rows (ORDER_CYCLE_COLUMNS; refreshed_at the one parameter)."""
    return _insert_sql(OrderCycle, ORDER_CYCLE_COLUMNS, _order_cycle_select(d, only))


def _order_cycle_select(d: Dialect, only: str) -> str:
    """SELECT the OrderCycle rows of every submitted order (or those in `only`, a SQL id list).

    Orders written without a timeline (imported, or seeded by SQL) fall back on their own submitted and
    approved times and on their shipments' shipped and delivered times. Held by the credit check: in review, and a
    credit rule flagged its latest submission (joined, not a subquery per order: that kept the whole statement out of
    PostgreSQL's parallel workers)."""
    # The timelines' orders filtered too: the planner does not carry e.order_id's list over to s.id.
    event_filter = f"AND e.order_id IN {only} AND s.id IN {only}" if only else ""
    order_filter = f"AND o.id IN {only}" if only else ""
    shipment_filter = f"AND order_id IN {only}" if only else ""
    invoice_filter = f"AND il.order_id IN {only}" if only else ""
    transition = "e.kind = 'transition' AND e.to_state"
    submitted = "COALESCE(ev.submitted_at, o.submitted_at)"
    shipped = f"COALESCE(ev.shipped_at, CASE WHEN o.status IN {_in(SHIPPED_ALL)} THEN sh.shipped_at END)"
    delivered = f"COALESCE(ev.delivered_at, CASE WHEN o.status IN {_in(DELIVERED_ALL)} THEN sh.delivered_at END)"
    return f"""
        SELECT o.id, o.created_by_id, o.customer_id, o.status, COALESCE(ev.status_since, o.updated_at), {submitted},
            COALESCE(ev.approved_at, o.approved_at), ev.allocated_at, {shipped}, {delivered},
            CASE WHEN o.payment_status IN {_in([PaymentStatus.PAID, PaymentStatus.REFUNDED])} THEN ev.paid_at END,
            o.requested_date, sh.eta, {d.local_date(delivered)}, inv.payment_due, ex.since,
            CASE WHEN o.status IN {_in([S.IN_REVIEW])} AND cr.order_id IS NOT NULL THEN TRUE ELSE FALSE END,
            CASE WHEN o.status IN {_in(MOVING)} OR inv.payment_due IS NOT NULL THEN TRUE ELSE FALSE END,
            %s
        FROM orders_salesorder o
        LEFT JOIN (
            SELECT e.order_id,
                MAX(CASE WHEN e.kind = 'transition' AND e.to_state = s.status THEN e.at END) AS status_since,
                MAX(CASE WHEN {transition} = '{S.SUBMITTED}' THEN e.at END) AS submitted_at,
                MAX(CASE WHEN {transition} = '{S.APPROVED}' THEN e.at END) AS approved_at,
                MIN(CASE WHEN {transition} = '{S.ALLOCATED}' THEN e.at END) AS allocated_at,
                MIN(CASE WHEN {transition} = '{S.SHIPPED}' THEN e.at END) AS shipped_at,
                MIN(CASE WHEN {transition} = '{S.DELIVERED}' THEN e.at END) AS delivered_at,
                MAX(CASE WHEN e.kind = 'payment' AND {d.json_text("e.params", "to")} = '{PaymentStatus.PAID}'
                    THEN e.at END) AS paid_at
            FROM orders_orderevent e JOIN orders_salesorder s ON s.id = e.order_id
            WHERE e.kind IN ('transition', 'payment') {event_filter}
            GROUP BY e.order_id
        ) ev ON ev.order_id = o.id
        LEFT JOIN (
            SELECT order_id, MAX(eta) AS eta, MAX(shipped_at) AS shipped_at, MAX(delivered_at) AS delivered_at
            FROM logistics_shipment WHERE state <> 'cancelled' {shipment_filter} GROUP BY order_id
        ) sh ON sh.order_id = o.id
        LEFT JOIN (
            SELECT il.order_id, MIN(i.due_date) AS payment_due
            FROM billing_invoiceline il JOIN billing_invoice i ON i.id = il.invoice_id
            WHERE i.status IN ('issued') AND i.total_gross > i.amount_credited + i.amount_paid {invoice_filter}
            GROUP BY il.order_id
        ) inv ON inv.order_id = o.id
        LEFT JOIN (
            SELECT order_id, MIN(opened_at) AS since FROM logistics_deliveryexception
            WHERE state = 'open' {shipment_filter} GROUP BY order_id
        ) ex ON ex.order_id = o.id
        LEFT JOIN (
            SELECT f.order_id FROM orders_reviewfinding f
            JOIN (
                SELECT order_id, MAX(submission) AS latest FROM orders_reviewfinding
                WHERE order_id IN (SELECT id FROM orders_salesorder WHERE status IN {_in([S.IN_REVIEW])}) {shipment_filter}
                GROUP BY order_id
            ) m ON m.order_id = f.order_id AND f.submission = m.latest
            WHERE f.severity = '{ReviewFinding.Severity.FLAG}' AND f.rule IN {_in(CREDIT_RULES)}
            GROUP BY f.order_id
        ) cr ON cr.order_id = o.id
        WHERE {submitted} IS NOT NULL {order_filter}
    """


REVIEW_CASE_COLUMNS = (
    "order_id", "salesperson_id", "checked_at", "checked_on", "flagged", "outcome", "decided_at", "decided_on",
    "reviewer_id", "review_seconds",
)  # fmt: skip


def _review_case_sql(d: Dialect, only: str) -> str:
    return _insert_sql(ReviewCase, REVIEW_CASE_COLUMNS, _review_case_select(d, only))


def _review_case_select(d: Dialect, only: str) -> str:
    """SELECT a ReviewCase per decision of the automatic checks (passed, or flagged and what followed)."""
    event_filter = f"AND e.order_id IN {only}" if only else ""
    decided = f"CASE WHEN e.to_state = '{S.APPROVED}' THEN e.at ELSE d.at END"
    reviewed = f"d.to_state IN {_in([S.APPROVED, S.REJECTED])}"
    first_decision = f"""
            SELECT d2.{{columns}} FROM orders_orderevent d2
            WHERE e.to_state = '{S.IN_REVIEW}' AND d2.order_id = e.order_id AND d2.kind = 'transition'
              AND d2.from_state = '{S.IN_REVIEW}' AND (d2.at > e.at OR (d2.at = e.at AND d2.id > e.id))
            ORDER BY d2.at, d2.id LIMIT 1"""
    if d.postgres:
        # A look-up per flagged submission only; joined by id, the planner hashed every event of the timelines.
        decision = f"LEFT JOIN LATERAL ({first_decision.format(columns='*')}) d ON TRUE"
    else:
        decision = f"LEFT JOIN orders_orderevent d ON d.id = ({first_decision.format(columns='id')})"
    return f"""
        SELECT e.order_id, o.created_by_id, e.at, {d.local_date("e.at")},
            CASE WHEN e.to_state = '{S.IN_REVIEW}' THEN TRUE ELSE FALSE END,
            CASE WHEN e.to_state = '{S.APPROVED}' THEN '{ReviewOutcome.PASSED}'
                 WHEN d.to_state IS NULL THEN '{ReviewOutcome.PENDING}' ELSE d.to_state END,
            {decided}, {d.local_date(decided)},
            CASE WHEN {reviewed} THEN d.by_id END,
            CASE WHEN {reviewed} THEN {d.seconds_between("e.at", "d.at")} END
        FROM orders_orderevent e
        JOIN orders_salesorder o ON o.id = e.order_id
        {decision}
        WHERE e.kind = 'transition' AND e.from_state = '{S.SUBMITTED}'
          AND e.to_state IN {_in([S.APPROVED, S.IN_REVIEW])} {event_filter}
    """


REVIEW_FLAG_COLUMNS = ("order_id", "salesperson_id", "submission", "rule", "day")


def _review_flag_sql(d: Dialect, only: str) -> str:
    return _insert_sql(ReviewFlag, REVIEW_FLAG_COLUMNS, _review_flag_select(d, only))


def _review_flag_select(d: Dialect, only: str) -> str:
    """SELECT a ReviewFlag per rule that flagged a submission."""
    finding_filter = f"AND f.order_id IN {only}" if only else ""
    return f"""
        SELECT f.order_id, o.created_by_id, f.submission, f.rule, {d.local_date("MIN(f.created_at)")}
        FROM orders_reviewfinding f JOIN orders_salesorder o ON o.id = f.order_id
        WHERE f.severity = '{ReviewFinding.Severity.FLAG}' {finding_filter}
        GROUP BY f.order_id, o.created_by_id, f.submission, f.rule
    """


STAGE_TIME_COLUMNS = ("order_id", "salesperson_id", "stage", "week", "seconds")


def _stage_time_sql(d: Dialect, only: str) -> str:
    return _insert_sql(CycleStageTime, STAGE_TIME_COLUMNS, _stage_time_select(d, only))


def _stage_time_select(d: Dialect, only: str) -> str:
    """SELECT a CycleStageTime per stage an order has completed (from its OrderCycle and ReviewCase rows)."""
    cycle_filter = f"AND order_id IN {only}" if only else ""
    cycle = _table(OrderCycle)

    def stage(name: str, start: str, end: str) -> str:
        return f"""
            SELECT order_id, salesperson_id, '{name}', {d.week_of_timestamp(end)}, {d.seconds_between(start, end)}
            FROM {cycle} WHERE {start} IS NOT NULL AND {end} >= {start} {cycle_filter}"""

    paid_end = "CASE WHEN paid_at > delivered_at THEN paid_at ELSE delivered_at END"
    return f"""
        {stage(Stage.SUBMIT_APPROVE, "submitted_at", "approved_at")}
        UNION ALL {stage(Stage.APPROVE_ALLOCATE, "approved_at", "allocated_at")}
        UNION ALL {stage(Stage.ALLOCATE_SHIP, "allocated_at", "shipped_at")}
        UNION ALL {stage(Stage.SHIP_DELIVER, "shipped_at", "delivered_at")}
        UNION ALL
            SELECT order_id, salesperson_id, '{Stage.DELIVER_PAY}', {d.week_of_timestamp(paid_end)},
                CASE WHEN paid_at > delivered_at THEN {d.seconds_between("delivered_at", "paid_at")} ELSE 0 END
            FROM {cycle} WHERE delivered_at IS NOT NULL AND paid_at IS NOT NULL {cycle_filter}
        UNION ALL
            SELECT order_id, salesperson_id, '{Stage.REVIEW}', {d.week_of_date("decided_on")}, review_seconds
            FROM {_table(ReviewCase)} WHERE review_seconds IS NOT NULL {cycle_filter}
    """


# --- the figure tables, by key ----------------------------------------------------------------------
DELIVERY_DAY_COLUMNS = ("day", "salesperson_id", "delivered", "with_requested", "on_time_requested", "with_eta", "on_time_eta")
REVIEW_DAY_COLUMNS = ("day", "salesperson_id", "checked", "flagged", "approved", "rejected", "cancelled")
CYCLE_WEEK_COLUMNS = ("stage", "week", "orders", "median_seconds", "p90_seconds")


def _delivery_day_sql(where: str) -> str:
    return _insert_sql(DeliveryDay, DELIVERY_DAY_COLUMNS, _delivery_day_select(where))


def _delivery_day_select(where: str) -> str:
    return f"""
        SELECT delivered_on, salesperson_id, COUNT(*), COUNT(requested_date),
            SUM(CASE WHEN delivered_on <= requested_date THEN 1 ELSE 0 END), COUNT(eta),
            SUM(CASE WHEN delivered_on <= eta THEN 1 ELSE 0 END)
        FROM {_table(OrderCycle)} WHERE delivered_on IS NOT NULL {where}
        GROUP BY delivered_on, salesperson_id
    """


def _review_day_sql(where: str) -> str:
    return _insert_sql(ReviewDay, REVIEW_DAY_COLUMNS, _review_day_select(where))


def _review_day_select(where: str) -> str:
    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    return f"""
        SELECT checked_on, salesperson_id, COUNT(*), {count("flagged")},
            {count(f"flagged AND outcome = '{ReviewOutcome.APPROVED}'")},
            {count(f"outcome = '{ReviewOutcome.REJECTED}'")}, {count(f"outcome = '{ReviewOutcome.CANCELLED}'")}
        FROM {_table(ReviewCase)} WHERE 1 = 1 {where}
        GROUP BY checked_on, salesperson_id
    """


def percentile_positions(n: int, fraction: tuple[int, int]) -> tuple[int, int, float]:
    """The 1-based ranks around the percentile (linear interpolation between closest ranks, as
    PostgreSQL's percentile_cont) and the weight of the upper one: position 1 + p·(n − 1)."""
    num, den = fraction
    exact = den + num * (n - 1)  # the position times den
    low, high = exact // den, (exact + den - 1) // den
    return low, high, (exact - low * den) / den


def _ranked_sql(where: str, *, by_week: bool = True) -> str:
    """The rows around the median and the 90th percentile of each stage (and week), ranks computed in SQL with
    the same integer arithmetic as percentile_positions."""
    partition = "stage, week" if by_week else "stage"
    week = "week" if by_week else "NULL"
    return f"""
        SELECT stage, {week}, n, rn, seconds FROM (
            SELECT stage, week, seconds,
                ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY seconds) AS rn,
                COUNT(*) OVER (PARTITION BY {partition}) AS n
            FROM {_table(CycleStageTime)} WHERE 1 = 1 {where}
        ) ranked
        WHERE rn IN ((n + 1) / 2, (n + 2) / 2, (9 * n + 1) / 10, (9 * n + 10) / 10)
    """


MEDIAN = (1, 2)
P90 = (9, 10)


def stage_percentiles(rows: Iterable[tuple]) -> dict[tuple[str, date | None], tuple[int, float, float]]:
    """{(stage, week): (orders, median seconds, p90 seconds)} from the ranked rows (stage, week, n, rank, seconds)."""
    values: dict[tuple[str, date | None], dict[int, int]] = defaultdict(dict)
    sizes: dict[tuple[str, date | None], int] = {}
    for stage, week, n, rank, seconds in rows:
        key = (stage, _as_date(week) if week is not None else None)
        values[key][int(rank)] = int(seconds)
        sizes[key] = int(n)
    figures = {}
    for key, ranks in values.items():
        n = sizes[key]
        figures[key] = (n, _interpolate(ranks, n, MEDIAN), _interpolate(ranks, n, P90))
    return figures


def _interpolate(ranks: dict[int, int], n: int, fraction: tuple[int, int]) -> float:
    low, high, weight = percentile_positions(n, fraction)
    return ranks[low] + (ranks[high] - ranks[low]) * weight


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def ranked_stage_rows(
    cursor, where: str, params: list, *, by_week: bool = True
) -> dict[tuple[str, date | None], tuple[int, float, float]]:
    """{(stage, week): (orders, median, p90)} of the stage times `where` selects (a SQL condition on
    CycleStageTime, starting with AND); week is None when not `by_week` (one figure for all of them)."""
    cursor.execute(_ranked_sql(where, by_week=by_week), params)
    return stage_percentiles(cursor.fetchall())


def _cycle_week_rows(cursor, where: str, params: list) -> list[tuple]:
    """The CycleWeek rows (CYCLE_WEEK_COLUMNS) of the stage times `where` selects, by stage and week."""
    figures = ranked_stage_rows(cursor, where, params)
    return [(stage, week, n, median, p90) for (stage, week), (n, median, p90) in sorted(figures.items())]


def _write_cycle_weeks(cursor, where: str, params: list) -> None:
    CycleWeek.objects.bulk_create(
        [CycleWeek(**dict(zip(CYCLE_WEEK_COLUMNS, row, strict=True))) for row in _cycle_week_rows(cursor, where, params)],
        batch_size=1000,
    )


# --- locks ---------------------------------------------------------------------------------------------
def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _advisory(cursor, name: str, *, shared: bool = False) -> None:
    """A transaction-level advisory lock on PostgreSQL (SQLite serialises writers anyway)."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(%s)", [_lock_key(f"{_LOCK_NAMESPACE}:{name}")])


# --- the services -------------------------------------------------------------------------------------
PER_ORDER = (OrderCycle, ReviewCase, ReviewFlag, CycleStageTime)
FIGURES = (CycleWeek, DeliveryDay, ReviewDay)


def _now_param(now: datetime):
    return connection.ops.adapt_datetimefield_value(now)


def _day(day: date):
    return sql_date(connection, day)


def sql_date(using, day: date):
    """A date as a raw cursor's parameter on this connection (SQLite: ISO text, as Django stores it)."""
    return using.ops.adapt_datefield_value(day)


@contextmanager
def _emptied_for_bulk_load(cursor, model):
    """Empty the table for a full rebuild. On PostgreSQL: TRUNCATE, and its indexes (the primary key's and unique
    constraints' too) dropped while it fills and built again after (one sorted build instead of a million random
    inserts); readers of the table wait for the rebuild's commit. Elsewhere: DELETE."""
    table = model._meta.db_table
    if connection.vendor != "postgresql":
        cursor.execute(f"DELETE FROM {_table(model)}")
        yield
        return
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = %s"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    indexes = cursor.fetchall()
    # The primary key's and unique constraints' indexes too (nothing references a snapshot table's rows).
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(f"TRUNCATE {_table(model)}")
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {_table(model)} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {_table(model)} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
    for _name, definition in indexes:
        cursor.execute(definition)


@transaction.atomic
def cycles_rebuild(*, now: datetime | None = None) -> None:
    """Rebuild every cycle table from the business tables in one transaction (the first build; safe to repeat)."""
    now = now or timezone.now()
    d = Dialect.current()
    with connection.cursor() as cursor:
        _advisory(cursor, "rebuild")
        if connection.vendor == "postgresql":
            # Million-row joins, groupings and index builds: hashed and sorted in memory, and not JIT-compiled
            # (compiling a statement takes longer than the few seconds it saves).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '512MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        with _emptied_for_bulk_load(cursor, OrderCycle):
            cursor.execute(_order_cycle_sql(d, ""), [_now_param(now)])
        with _emptied_for_bulk_load(cursor, ReviewCase):
            cursor.execute(_review_case_sql(d, ""))
        with _emptied_for_bulk_load(cursor, ReviewFlag):
            cursor.execute(_review_flag_sql(d, ""))
        with _emptied_for_bulk_load(cursor, CycleStageTime):
            cursor.execute(_stage_time_sql(d, ""))
        # The figure tables are small (days × salespeople, weeks × stages) and read by home pages: emptied with
        # DELETE, so their readers see yesterday's rows until the commit instead of waiting for it.
        for model in FIGURES:
            cursor.execute(f"DELETE FROM {_table(model)}")
        cursor.execute(_delivery_day_sql(""))
        cursor.execute(_review_day_sql(""))
        _write_cycle_weeks(cursor, "", [])
        if connection.vendor == "postgresql":
            for model in (*PER_ORDER, *FIGURES):
                cursor.execute(f"ANALYZE {_table(model)}")
    snapshot_touch(SNAPSHOT, rebuilt=True, at=now)


def _recompute_cycle_weeks(cursor) -> int:
    """CycleWeek patched to the figures of every stage time (the percentiles are computed in Python, as the
    rebuild's; a few hundred rows, compared in SQL with the live ones from a scratch table)."""
    rows = _cycle_week_rows(cursor, "", [])
    fields = {field.column: field.db_type(connection) for field in CycleWeek._meta.concrete_fields}
    columns = ", ".join(f"{column} {fields[column]}" for column in CYCLE_WEEK_COLUMNS)
    cursor.execute(f"CREATE TEMPORARY TABLE cycle_week_figures ({columns}) ON COMMIT DROP")
    if rows:
        cursor.executemany(
            f"INSERT INTO cycle_week_figures VALUES ({', '.join(['%s'] * len(CYCLE_WEEK_COLUMNS))})",
            [(stage, _day(week), n, median, p90) for stage, week, n, median, p90 in rows],
        )
    written = patch_by_key(
        cursor,
        model=CycleWeek,
        columns=CYCLE_WEEK_COLUMNS,
        keys=("week", "stage"),
        select=f"SELECT {', '.join(CYCLE_WEEK_COLUMNS)} FROM cycle_week_figures",
    )
    cursor.execute("DROP TABLE cycle_week_figures")
    return written


@transaction.atomic
def cycles_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Compute every cycle row afresh from the business tables and write only those that differ from the
    snapshot (safe to repeat): {table: rows deleted plus inserted}. Nothing is emptied, so readers go on
    reading the snapshot meanwhile and never wait. SQLite (development) rebuilds instead.

    Under the rebuild's exclusive lock: an order's refresh after an event waits for the commit and then writes
    its rows from what is committed by then. Under the shared lock a refresh could write an order's newer rows
    between the computation and the write of its older ones here, and they would be undone."""
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        cycles_rebuild(now=now)
        return {}
    d = Dialect.current()
    written: dict[str, int] = {}
    with connection.cursor() as cursor:
        _advisory(cursor, "rebuild")
        # Million-row joins and groupings hashed in memory, in parallel where the planner can, not JIT-compiled
        # (compiling takes longer than it saves).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL hash_mem_multiplier = 3")
        written["OrderCycle"] = patch_by_key(
            cursor,
            model=OrderCycle,
            columns=ORDER_CYCLE_COLUMNS,
            keys=("order_id",),
            select=lambda only: _order_cycle_select(d, only),
            params=[_now_param(now)],
            ignored=("refreshed_at",),
            # The timelines' millions of events summed per order by sorting in parallel workers: hashed, the planner
            # kept them in one process (10.2 s against 7.9 s at a million orders).
            planner={"enable_hashagg": "off"},
        )
        written["ReviewCase"] = patch_by_order(
            cursor, model=ReviewCase, columns=REVIEW_CASE_COLUMNS, select=lambda only: _review_case_select(d, only)
        )
        written["ReviewFlag"] = patch_by_key(
            cursor,
            model=ReviewFlag,
            columns=REVIEW_FLAG_COLUMNS,
            keys=("order_id", "submission", "rule"),
            select=lambda only: _review_flag_select(d, only),
        )
        # The stage times and the figures from the patched rows (they equal the fresh ones now: nothing computed twice).
        written["CycleStageTime"] = patch_by_order(
            cursor, model=CycleStageTime, columns=STAGE_TIME_COLUMNS, select=lambda only: _stage_time_select(d, only)
        )
        for model, columns, select in (
            (DeliveryDay, DELIVERY_DAY_COLUMNS, _delivery_day_select("")),
            (ReviewDay, REVIEW_DAY_COLUMNS, _review_day_select("")),
        ):
            written[model.__name__] = patch_by_key(
                cursor, model=model, columns=columns, keys=("day", "salesperson_id"), select=select
            )
        written["CycleWeek"] = _recompute_cycle_weeks(cursor)
        for model in (*PER_ORDER, *FIGURES):
            if written[model.__name__] > 1000:  # the next night's statements plan with the new figures
                cursor.execute(f"ANALYZE {_table(model)}")
    snapshot_touch(SNAPSHOT, rebuilt=True, at=now)
    return written


def _counted(cursor, only: str) -> tuple[set, set, set]:
    """What the orders contribute to the figure tables now: their stage times, deliveries and checks."""
    cursor.execute(f"SELECT order_id, stage, week, seconds FROM {_table(CycleStageTime)} WHERE order_id IN {only}")
    stages = {(order, stage, _as_date(week), int(seconds)) for order, stage, week, seconds in cursor.fetchall()}
    cursor.execute(
        f"SELECT order_id, delivered_on, salesperson_id, requested_date, eta FROM {_table(OrderCycle)}"
        f" WHERE order_id IN {only} AND delivered_on IS NOT NULL"
    )
    deliveries = {(order, _as_date(day), int(person), str(asked), str(eta)) for order, day, person, asked, eta in cursor}
    cursor.execute(
        f"SELECT order_id, checked_at, checked_on, salesperson_id, flagged, outcome FROM {_table(ReviewCase)}"
        f" WHERE order_id IN {only}"
    )
    checks = {
        (order, str(at), _as_date(day), int(person), bool(flagged), outcome)
        for order, at, day, person, flagged, outcome in cursor
    }
    return stages, deliveries, checks


@transaction.atomic
def cycles_refresh_orders(*, order_ids: Iterable[int], now: datetime | None = None) -> None:
    """Bring the cycle rows of these orders up to date, and recompute the weekly and daily figures whose
    share of them changed (a week's percentiles, a day's deliveries or checks of one salesperson)."""
    ids = sorted({int(pk) for pk in order_ids})
    if not ids:
        return
    now = now or timezone.now()
    d = Dialect.current()
    only = _ids(ids)
    with connection.cursor() as cursor:
        _advisory(cursor, "rebuild", shared=True)
        if connection.vendor == "postgresql":
            # A few thousand orders' rows: compiling the statements (JIT) would take longer than running them.
            cursor.execute("SET LOCAL jit = off")
        before = _counted(cursor, only)
        for model in PER_ORDER:
            cursor.execute(f"DELETE FROM {_table(model)} WHERE order_id IN {only}")
        cursor.execute(_order_cycle_sql(d, only), [_now_param(now)])
        cursor.execute(_review_case_sql(d, only))
        cursor.execute(_review_flag_sql(d, only))
        cursor.execute(_stage_time_sql(d, only))
        after = _counted(cursor, only)
        stages, deliveries, checks = (old ^ new for old, new in zip(before, after, strict=True))
        for stage, week in sorted({(stage, week) for _order, stage, week, _seconds in stages}):
            _advisory(cursor, f"week:{stage}:{week.isoformat()}")
            CycleWeek.objects.filter(stage=stage, week=week).delete()
            _write_cycle_weeks(cursor, "AND stage = %s AND week = %s", [stage, _day(week)])
        for day, person in sorted({(day, person) for _order, day, person, *_rest in deliveries}):
            _advisory(cursor, f"delivery:{day.isoformat()}:{person}")
            DeliveryDay.objects.filter(day=day, salesperson_id=person).delete()
            cursor.execute(_delivery_day_sql("AND delivered_on = %s AND salesperson_id = %s"), [_day(day), person])
        for day, person in sorted({(day, person) for _order, _at, day, person, *_rest in checks}):
            _advisory(cursor, f"review:{day.isoformat()}:{person}")
            ReviewDay.objects.filter(day=day, salesperson_id=person).delete()
            cursor.execute(_review_day_sql("AND checked_on = %s AND salesperson_id = %s"), [_day(day), person])
    snapshot_touch(SNAPSHOT, at=now)


# --- the nightly run ----------------------------------------------------------------------------------
# Besides the orders that changed (since the last run, less NIGHTLY_OVERLAP), a slice of this many orders (by id,
# in turn) is computed again each night: every order is computed again from its business rows at least every
# (orders / this) nights (a month at 300,000 orders, about 100 nights at a million).
NIGHTLY_SLICE_ORDERS = 10_000
# Orders refreshed in one transaction (one IN list per statement).
REFRESH_CHUNK = 5000


def _orders_changed_since(since: datetime, until: datetime) -> set[int]:
    """The orders whose cycle rows may have changed from `since` to `until` (now; a time after it is not a
    change that happened, it was read by every run before): the order itself saved (its state, its
    payment status), a timeline event, a shipment made or sent, a delivery exception opened or resolved,
    a review finding, an invoice of the order issued, paid or credited. Each an index range where it
    matters (the timelines, orders, shipments)."""
    changed: set[int] = set()
    queries = [
        SalesOrder.objects.filter(updated_at__range=(since, until)).values_list("pk", flat=True),
        OrderEvent.objects.filter(at__range=(since, until)).values_list("order_id", flat=True),
        Shipment.objects.filter(Q(created_at__gte=since) | Q(shipped_at__gte=since)).values_list("order_id", flat=True),
        DeliveryException.objects.filter(Q(opened_at__gte=since) | Q(resolved_at__gte=since)).values_list("order_id", flat=True),
        ReviewFinding.objects.filter(created_at__gte=since).values_list("order_id", flat=True),
    ]
    invoices = Invoice.objects.filter(
        Q(issued_at__gte=since)
        | Q(pk__in=InvoiceEvent.objects.filter(at__gte=since).values("invoice_id"))
        | Q(pk__in=CreditNote.objects.filter(created_at__gte=since).values("invoice_id"))
    )
    queries.append(InvoiceLine.objects.filter(invoice__in=invoices, order_id__isnull=False).values_list("order_id", flat=True))
    for query in queries:
        changed.update(query.order_by().distinct())
    return changed


def _nightly_slice(day: date) -> list[int]:
    """The ids of the night's slice of the orders (NIGHTLY_SLICE_ORDERS of them, in turn)."""
    return nightly_slice(day, size=NIGHTLY_SLICE_ORDERS)


def cycles_nightly(*, now: datetime | None = None, full: bool = False) -> dict:
    """The nightly run: the orders that changed since the last run (and NIGHTLY_OVERLAP before it) and the
    night's slice of all orders are computed again from the business tables (cycles_refresh_orders, in
    chunks, each its own transaction: readers never wait, events go on being handled). With `full`, every
    row is computed afresh and only those that differ are written (cycles_recompute). An empty snapshot,
    or one never built, is built in full (cycles_rebuild: the fastest way to fill empty tables)."""
    now = now or timezone.now()
    state = SnapshotState.objects.filter(name=SNAPSHOT).first()
    if state is None or state.rebuilt_at is None or not OrderCycle.objects.exists():
        cycles_rebuild(now=now)
        _vacuum_open_rows()
        return {"rebuilt": True, "refreshed": 0}
    if full:
        written = cycles_recompute(now=now)
        _vacuum_open_rows()
        return {"rebuilt": True, "refreshed": 0, "written": written}
    ids = _orders_changed_since(state.rebuilt_at - NIGHTLY_OVERLAP, now)
    ids.update(_nightly_slice(timezone.localdate(now)))
    result = nightly_refresh(
        SNAPSHOT,
        order_ids=ids,
        chunk=REFRESH_CHUNK,
        refresh=lambda chunk: cycles_refresh_orders(order_ids=chunk, now=now),
        now=now,
    )
    _vacuum_open_rows()
    return result


def _vacuum_open_rows() -> None:
    """VACUUM the per-order rows after the nightly run, on PostgreSQL and outside a transaction (VACUUM cannot
    run in one): their pages are marked all-visible, so counting the orders at risk reads the covering index
    (cycle_risk_open_counts) alone. Rows rewritten during the day are read from the table until the next run
    (or autovacuum) passes. Under a few seconds at a million orders; skips pages already all-visible."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {_table(OrderCycle)}")

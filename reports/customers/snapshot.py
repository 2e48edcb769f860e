"""Building the customer snapshot: in full, set-based (nightly), or for one customer (after its events).

Both paths work the figures out with the same SELECT (the one-customer path adds `customer_id = %s` to
each part) and score them with the same INSERT. The SQL is plain enough for PostgreSQL and SQLite alike
(the month buckets come from the ORM, which knows how each turns a moment into a local date).

What counts:
- booked orders: approved and not cancelled (BOOKED), dated by when they were entered (created_at);
  their amounts are the orders' totals;
- open orders: submitted and not yet shipped in full (OPEN);
- complaints: every complaint opened; returns: those accepted (approved, received or closed).

RFM scores (1–5) are quintiles over the customers with a booked order in the trailing 12 months
(365 days): a score is 1 + how many of the four quintile bounds the value is
above, so equal values always get equal scores. The bounds are kept (RfmBounds) from the last full
rebuild; refreshing one customer scores it against them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DateField, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.money import round_money
from customers.models import OPEN_COMPLAINT_STATES, Complaint, Customer
from logistics.returns.models import ReturnRequest, ReturnState
from orders.models import OrderStatus, SalesOrder
from reports.models import SnapshotState
from reports.snapshots import snapshot_touch

from .models import CustomerMonth, CustomerSnapshot, RfmBounds, Segment
from .segments import new_customer_days

SNAPSHOT_NAME = "customers"

S = OrderStatus
BOOKED = [S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.COMPLETED]
OPEN = [S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED]
ACCEPTED_RETURNS = [ReturnState.APPROVED, ReturnState.RECEIVED, ReturnState.CLOSED]

# Named segments of the scored customers, first match wins: (segment, least recency, frequency, monetary score).
# Before these: no booked order at all (no orders yet), none in the window (lost), a first order within
# settings.NEW_CUSTOMER_DAYS (new). The rules after the two recency-3 ones see recency 1–2 only.
SEGMENT_RULES: list[tuple[str, int, int, int]] = [
    (Segment.CHAMPIONS, 4, 4, 4),
    (Segment.LOYAL, 3, 4, 1),
    (Segment.PROMISING, 4, 1, 1),
    (Segment.NEED_ATTENTION, 3, 1, 1),
    (Segment.AT_RISK, 1, 3, 1),
    (Segment.AT_RISK, 1, 1, 4),
    (Segment.HIBERNATING, 1, 1, 1),
]

# The snapshot's tables, in the order both paths write them (the same lock order for both).
_SNAPSHOT = CustomerSnapshot._meta.db_table
_MONTH = CustomerMonth._meta.db_table
_REFRESH_LOCK_KEY = 0x52435553  # PostgreSQL advisory lock class of one customer's refresh ("RCUS")


# The trailing window of the "12 months" figures and of the RFM scores.
WINDOW = timedelta(days=365)


def _moment(value: datetime):
    """A moment as the database compares it with a DateTimeField column."""
    return connection.ops.adapt_datetimefield_value(value)


def _in(values) -> tuple[str, list]:
    values = [str(v) for v in values]
    return ", ".join(["%s"] * len(values)), values


def _ids(ids) -> tuple[str, list]:
    ids = [int(i) for i in ids]
    return ", ".join(["%s"] * len(ids)), ids


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- the customer rows ----------------------------------------------------------------------------

# The figures of a customer, in the order the base query gives them and the snapshot stores them.
FIGURES = [
    "customer_id",
    "first_order_at",
    "last_order_at",
    "orders_count",
    "gross_total",
    "orders_12m",
    "net_12m",
    "gross_12m",
    "open_orders",
    "open_gross",
    "complaints_count",
    "complaints_12m",
    "open_complaints",
    "returns_count",
    "returns_12m",
]


def _figures_select(*, now: datetime, customer_ids: list[int] | None) -> tuple[str, list]:
    """SELECT of one row per customer (every one, or these) with FIGURES: its booked and open orders, complaints,
    returns."""
    since = _moment(now - WINDOW)
    booked, booked_params = _in(BOOKED)
    open_, open_params = _in(OPEN)
    both, both_params = _in(dict.fromkeys([*BOOKED, *OPEN]))
    complaint_open, complaint_open_params = _in(OPEN_COMPLAINT_STATES)
    accepted, accepted_params = _in(ACCEPTED_RETURNS)
    one = customer_ids is not None
    chosen, chosen_params = _ids(customer_ids or [])
    orders = SalesOrder._meta.db_table
    sql = f"""
        SELECT c.id AS customer_id, o.first_at AS first_order_at, o.last_at AS last_order_at,
            COALESCE(o.n, 0) AS orders_count, COALESCE(o.gross, 0) AS gross_total,
            COALESCE(o.n_window, 0) AS orders_12m, COALESCE(o.net_window, 0) AS net_12m,
            COALESCE(o.gross_window, 0) AS gross_12m, COALESCE(o.n_open, 0) AS open_orders,
            COALESCE(o.gross_open, 0) AS open_gross, COALESCE(k.n, 0) AS complaints_count,
            COALESCE(k.n_window, 0) AS complaints_12m, COALESCE(k.n_open, 0) AS open_complaints,
            COALESCE(r.n, 0) AS returns_count, COALESCE(r.n_window, 0) AS returns_12m
        FROM {Customer._meta.db_table} c
        LEFT JOIN (
            SELECT customer_id,
                MIN(CASE WHEN booked = 1 THEN created_at END) AS first_at,
                MAX(CASE WHEN booked = 1 THEN created_at END) AS last_at,
                SUM(booked) AS n,
                SUM(CASE WHEN booked = 1 THEN total ELSE 0 END) AS gross,
                SUM(CASE WHEN booked = 1 AND created_at >= %s THEN 1 ELSE 0 END) AS n_window,
                SUM(CASE WHEN booked = 1 AND created_at >= %s THEN subtotal ELSE 0 END) AS net_window,
                SUM(CASE WHEN booked = 1 AND created_at >= %s THEN total ELSE 0 END) AS gross_window,
                SUM(is_open) AS n_open,
                SUM(CASE WHEN is_open = 1 THEN total ELSE 0 END) AS gross_open
            FROM (
                SELECT customer_id, created_at, subtotal, total,
                    CASE WHEN status IN ({booked}) THEN 1 ELSE 0 END AS booked,
                    CASE WHEN status IN ({open_}) THEN 1 ELSE 0 END AS is_open
                FROM {orders}
                WHERE status IN ({both}) {f"AND customer_id IN ({chosen})" if one else ""}
            ) AS flagged
            GROUP BY customer_id
        ) AS o ON o.customer_id = c.id
        LEFT JOIN (
            SELECT customer_id, COUNT(*) AS n,
                SUM(CASE WHEN created_at >= %s THEN 1 ELSE 0 END) AS n_window,
                SUM(CASE WHEN state IN ({complaint_open}) THEN 1 ELSE 0 END) AS n_open
            FROM {Complaint._meta.db_table}
            {f"WHERE customer_id IN ({chosen})" if one else ""}
            GROUP BY customer_id
        ) AS k ON k.customer_id = c.id
        LEFT JOIN (
            SELECT so.customer_id, COUNT(*) AS n, SUM(CASE WHEN rr.created_at >= %s THEN 1 ELSE 0 END) AS n_window
            FROM {ReturnRequest._meta.db_table} rr
            INNER JOIN {orders} so ON so.id = rr.order_id
            WHERE rr.state IN ({accepted}) {f"AND so.customer_id IN ({chosen})" if one else ""}
            GROUP BY so.customer_id
        ) AS r ON r.customer_id = c.id
        {f"WHERE c.id IN ({chosen})" if one else ""}
    """
    only = chosen_params if one else []
    params = [
        since,
        since,
        since,
        *booked_params,
        *open_params,
        *both_params,
        *only,
        since,
        *complaint_open_params,
        *only,
        since,
        *accepted_params,
        *only,
        *only,
    ]
    return sql, params


# --- RFM scores and segments --------------------------------------------------------------------


def _quintile_positions(count: int) -> list[int]:
    """The 0-based positions, in the ascending order of a metric, of the four bounds between the quintiles."""
    return [math.ceil(score * count / 5) - 1 for score in range(1, 5)]


def _as_moment(value) -> datetime:
    """A DateTimeField value read by raw SQL (SQLite gives text in UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def rfm_bounds_compute(*, source: str, now: datetime) -> RfmBounds:
    """The quintile bounds over the customers in `source` (a table of FIGURES) with a booked order in the window,
    kept in the one RfmBounds row."""

    def value_at(column: str, position: int):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {source} WHERE orders_12m > 0 ORDER BY {column} LIMIT 1 OFFSET %s", [position])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {source} WHERE orders_12m > 0")
        count = cursor.fetchone()[0]
    recency_cuts: list[str] = []
    frequency: list[int] = []
    monetary: list[str] = []
    for position in _quintile_positions(count) if count else []:
        # Recency counts in days: every order of the bound's (local) day is "not after" it.
        next_day = timezone.localdate(_as_moment(value_at("last_order_at", position))) + timedelta(days=1)
        recency_cuts.append(timezone.make_aware(datetime.combine(next_day, datetime.min.time())).isoformat())
        frequency.append(int(value_at("orders_12m", position)))
        monetary.append(str(round_money(Decimal(str(value_at("gross_12m", position))))))
    bounds, _created = RfmBounds.objects.update_or_create(
        pk=1,
        defaults={
            "computed_at": now,
            "active_customers": count,
            "recency_cuts": recency_cuts,
            "frequency_bounds": frequency,
            "monetary_bounds": monetary,
        },
    )
    return bounds


def _score_sql(column: str, comparison: str, bounds: list) -> tuple[str, list]:
    """1 + how many of the bounds the column is above (1 when there are no bounds: nobody to compare with)."""
    if not bounds:
        return "1", []
    parts = " + ".join(f"CASE WHEN {column} {comparison} %s THEN 1 ELSE 0 END" for _bound in bounds)
    return f"1 + {parts}", list(bounds)


def _insert_scored(*, source: str, source_params: list, bounds: RfmBounds, now: datetime) -> None:
    """Insert the rows of `source` (FIGURES) into the snapshot with their scores (customers in the window only)
    and segment."""
    recency, recency_params = _score_sql(
        "last_order_at", ">=", [_moment(datetime.fromisoformat(cut)) for cut in bounds.recency_cuts]
    )
    frequency, frequency_params = _score_sql("orders_12m", ">", [int(b) for b in bounds.frequency_bounds])
    monetary, monetary_params = _score_sql("gross_12m", ">", [Decimal(b) for b in bounds.monetary_bounds])
    rules, rule_params = [], []
    for segment, recency_least, frequency_least, monetary_least in SEGMENT_RULES:
        rules.append("WHEN recency_score >= %s AND frequency_score >= %s AND monetary_score >= %s THEN %s")
        rule_params += [recency_least, frequency_least, monetary_least, str(segment)]
    figures = ", ".join(FIGURES)
    _execute(
        f"""
        INSERT INTO {_SNAPSHOT} ({figures}, recency_score, frequency_score, monetary_score, segment, refreshed_at)
        SELECT {figures}, recency_score, frequency_score, monetary_score,
            CASE
                WHEN orders_count = 0 THEN %s
                WHEN orders_12m = 0 THEN %s
                WHEN first_order_at >= %s THEN %s
                {" ".join(rules)}
                ELSE %s
            END,
            %s
        FROM (
            SELECT {figures},
                CASE WHEN orders_12m > 0 THEN {recency} END AS recency_score,
                CASE WHEN orders_12m > 0 THEN {frequency} END AS frequency_score,
                CASE WHEN orders_12m > 0 THEN {monetary} END AS monetary_score
            FROM {source}
        ) AS scored
        """,
        [
            str(Segment.NO_ORDERS),
            str(Segment.LOST),
            _moment(now - timedelta(days=new_customer_days())),
            str(Segment.NEW),
            *rule_params,
            str(Segment.HIBERNATING),
            _moment(now),
            *recency_params,
            *frequency_params,
            *monetary_params,
            *source_params,
        ],
    )


# --- months --------------------------------------------------------------------------


def _insert_months(*, customer_id: int | None = None, customer_ids: list[int] | None = None) -> None:
    """One row per customer and local calendar month with booked orders, the customer's first month marked
    (every customer's, one customer's, or these customers')."""
    orders = SalesOrder.objects.filter(status__in=BOOKED)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=customer_ids)
    grouped = (
        orders.annotate(bucket=TruncMonth("created_at", output_field=DateField()))
        .values("customer_id", "bucket")
        .annotate(n=Count("pk"), net_sum=Sum("subtotal"), gross_sum=Sum("total"))
        .values_list("customer_id", "bucket", "n", "net_sum", "gross_sum")
        .order_by()
    )
    select, params = grouped.query.get_compiler(connection=connection).as_sql()
    _execute(
        f"""
        INSERT INTO {_MONTH} (customer_id, month, orders, net, gross, is_first_month)
        SELECT customer_id, bucket, n, net_sum, gross_sum,
            CASE WHEN bucket = MIN(bucket) OVER (PARTITION BY customer_id) THEN %s ELSE %s END
        FROM ({select}) AS grouped
        ORDER BY customer_id, bucket
        """,
        [True, False, *params],
    )


# --- the two ways in ------------------------------------------------------------------------------


_WORK_TABLE = "reports_customer_figures_work"

# The months do not move with the clock (the figures' 12-month window does): a rebuild after the first one
# writes again the months of the customers whose orders were saved since the last rebuild (and this long
# before it, for transactions that committed late), and of one of MONTH_SLICES slices of the customers in
# turn, so that every customer's months are derived again at least once in as many nights.
MONTHS_OVERLAP = timedelta(days=1)
MONTH_SLICES = 28


def _rebuild_months(*, now: datetime) -> None:
    state = SnapshotState.objects.filter(name=SNAPSHOT_NAME).first()
    if state is None or state.rebuilt_at is None or not CustomerMonth.objects.exists():
        _execute(f"DELETE FROM {_MONTH}", [])
        _insert_months()
        return
    changed = set(
        SalesOrder.objects.filter(updated_at__gte=state.rebuilt_at - MONTHS_OVERLAP)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    slice_of_the_night = timezone.localdate(now).toordinal() % MONTH_SLICES
    changed.update(
        Customer.objects.annotate(slice=F("pk") % MONTH_SLICES).filter(slice=slice_of_the_night).values_list("pk", flat=True)
    )
    ordered = sorted(changed)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        CustomerMonth.objects.filter(customer_id__in=chunk).delete()
        _insert_months(customer_ids=chunk)


@transaction.atomic
def customer_snapshot_rebuild(*, now: datetime | None = None) -> int:
    """Every customer's snapshot rows from scratch, with new quintile bounds; returns how many customers.

    The figures go to a temporary table first (the bounds are read from it), then into the snapshot with
    their scores in one INSERT: no UPDATE of every row afterwards. The months are written in full the
    first time, then for the customers whose orders changed and a slice of the others (_rebuild_months).
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # One customer's refresh waits for the rebuild (and then redoes its rows); readers go on reading.
        _execute(f"LOCK TABLE {_SNAPSHOT}, {_MONTH} IN SHARE ROW EXCLUSIVE MODE", [])
        # The month buckets of a million orders are grouped in memory rather than in batches on disk.
        _execute("SET LOCAL work_mem = '64MB'", [])
    figures, params = _figures_select(now=now, customer_ids=None)
    _execute(f"DROP TABLE IF EXISTS {_WORK_TABLE}", [])
    _execute(f"CREATE TEMPORARY TABLE {_WORK_TABLE} AS {figures}", params)
    bounds = rfm_bounds_compute(source=_WORK_TABLE, now=now)
    _execute(f"DELETE FROM {_SNAPSHOT}", [])
    _insert_scored(source=_WORK_TABLE, source_params=[], bounds=bounds, now=now)
    _execute(f"DROP TABLE {_WORK_TABLE}", [])
    _rebuild_months(now=now)
    if connection.vendor == "postgresql":
        # The planner's statistics of tables just refilled (the report pages' plans depend on them).
        _execute(f"ANALYZE {_SNAPSHOT}, {_MONTH}", [])
    snapshot_touch(SNAPSHOT_NAME, rebuilt=True, at=now)
    return CustomerSnapshot.objects.count()


@transaction.atomic
def customer_snapshot_refresh_many(*, customer_ids: list[int], now: datetime | None = None) -> None:
    """These customers' snapshot rows again, scored against the last rebuild's bounds, in a fixed number of
    statements (the batch of reports.dirty refreshes every marked customer at once); safe to run twice."""
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if not ids:
        return
    now = now or timezone.now()
    chosen, chosen_params = _ids(ids)
    if connection.vendor == "postgresql":
        # Two refreshes of one customer at once would both insert its rows: the second waits (locks taken in id order).
        _execute(
            "SELECT pg_advisory_xact_lock(%s, ids.id) FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) AS ids",
            [_REFRESH_LOCK_KEY, ids],
        )
    _execute(f"DELETE FROM {_SNAPSHOT} WHERE customer_id IN ({chosen})", chosen_params)
    figures, params = _figures_select(now=now, customer_ids=ids)
    bounds = RfmBounds.objects.filter(pk=1).first()
    if bounds is None:  # never rebuilt: the customers are scored against the snapshot as it is
        bounds = rfm_bounds_compute(source=_SNAPSHOT, now=now)
    _insert_scored(source=f"({figures}) AS figures", source_params=params, bounds=bounds, now=now)
    _execute(f"DELETE FROM {_MONTH} WHERE customer_id IN ({chosen})", chosen_params)
    _insert_months(customer_ids=ids)
    snapshot_touch(SNAPSHOT_NAME, at=now)

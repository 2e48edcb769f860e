"""Building the customer snapshot: in full, set-based (nightly), or for one customer (after its events).

Both paths run the same statements; the one-customer path adds `customer_id = %s` to each. The SQL is
plain enough for PostgreSQL and SQLite alike (the month buckets come from the ORM, which knows how each
one turns a moment into a local date).

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
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DateField, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.models import OPEN_COMPLAINT_STATES, Complaint, Customer
from logistics.returns.models import ReturnRequest, ReturnState
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from reports.snapshots import snapshot_touch

from .models import CustomerMonth, CustomerProduct, CustomerSnapshot, RfmBounds, Segment
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
_PRODUCT = CustomerProduct._meta.db_table
_BOUNDS_LOCK_KEY = 0x52435553  # PostgreSQL advisory lock class of one customer's refresh ("RCUS")


# The trailing window of the "12 months" figures and of the RFM scores.
WINDOW = timedelta(days=365)


def _moment(value: datetime):
    """A moment as the database compares it with a DateTimeField column."""
    return connection.ops.adapt_datetimefield_value(value)


def _in(values) -> tuple[str, list]:
    values = [str(v) for v in values]
    return ", ".join(["%s"] * len(values)), values


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- the customer rows ----------------------------------------------------------------------------


def _insert_snapshot_rows(*, now: datetime, customer_id: int | None) -> None:
    """One row per customer (or the one): its booked and open orders, complaints and returns; unscored."""
    since = _moment(now - WINDOW)
    booked, booked_params = _in(BOOKED)
    open_, open_params = _in(OPEN)
    both, both_params = _in(dict.fromkeys([*BOOKED, *OPEN]))
    complaint_open, complaint_open_params = _in(OPEN_COMPLAINT_STATES)
    accepted, accepted_params = _in(ACCEPTED_RETURNS)
    one = customer_id is not None
    orders = SalesOrder._meta.db_table
    sql = f"""
        INSERT INTO {_SNAPSHOT} (customer_id, first_order_at, last_order_at, orders_count, gross_total, orders_12m,
            net_12m, gross_12m, open_orders, open_gross, complaints_count, complaints_12m, open_complaints,
            returns_count, returns_12m, segment, refreshed_at)
        SELECT c.id, o.first_at, o.last_at, COALESCE(o.n, 0), COALESCE(o.gross, 0), COALESCE(o.n_window, 0),
            COALESCE(o.net_window, 0), COALESCE(o.gross_window, 0), COALESCE(o.n_open, 0), COALESCE(o.gross_open, 0),
            COALESCE(k.n, 0), COALESCE(k.n_window, 0), COALESCE(k.n_open, 0), COALESCE(r.n, 0), COALESCE(r.n_window, 0),
            %s, %s
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
                WHERE status IN ({both}) {"AND customer_id = %s" if one else ""}
            ) AS flagged
            GROUP BY customer_id
        ) AS o ON o.customer_id = c.id
        LEFT JOIN (
            SELECT customer_id, COUNT(*) AS n,
                SUM(CASE WHEN created_at >= %s THEN 1 ELSE 0 END) AS n_window,
                SUM(CASE WHEN state IN ({complaint_open}) THEN 1 ELSE 0 END) AS n_open
            FROM {Complaint._meta.db_table}
            {"WHERE customer_id = %s" if one else ""}
            GROUP BY customer_id
        ) AS k ON k.customer_id = c.id
        LEFT JOIN (
            SELECT so.customer_id, COUNT(*) AS n, SUM(CASE WHEN rr.created_at >= %s THEN 1 ELSE 0 END) AS n_window
            FROM {ReturnRequest._meta.db_table} rr
            INNER JOIN {orders} so ON so.id = rr.order_id
            WHERE rr.state IN ({accepted}) {"AND so.customer_id = %s" if one else ""}
            GROUP BY so.customer_id
        ) AS r ON r.customer_id = c.id
        {"WHERE c.id = %s" if one else ""}
    """
    only = [customer_id] if one else []
    params = [
        str(Segment.NO_ORDERS),
        _moment(now),
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
    _execute(sql, params)


# --- RFM scores and segments --------------------------------------------------------------------


def _quintile_positions(count: int) -> list[int]:
    """The 0-based positions, in the ascending order of a metric, of the four bounds between the quintiles."""
    return [math.ceil(score * count / 5) - 1 for score in range(1, 5)]


def rfm_bounds_compute(*, now: datetime) -> RfmBounds:
    """The quintile bounds over the customers scored (a booked order in the window), kept in the one RfmBounds row."""
    active = CustomerSnapshot.objects.filter(orders_12m__gt=0).order_by()
    count = active.count()
    recency_cuts: list[str] = []
    frequency: list[int] = []
    monetary: list[str] = []
    if count:
        positions = _quintile_positions(count)
        for position in positions:
            last = active.order_by("last_order_at").values_list("last_order_at", flat=True)[position]
            # Recency counts in days: every order of the bound's (local) day is "not after" it.
            next_day = timezone.localdate(last) + timedelta(days=1)
            recency_cuts.append(timezone.make_aware(datetime.combine(next_day, datetime.min.time())).isoformat())
            frequency.append(active.order_by("orders_12m").values_list("orders_12m", flat=True)[position])
            monetary.append(str(active.order_by("gross_12m").values_list("gross_12m", flat=True)[position]))
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
    if not bounds:
        return "1", []
    parts = " + ".join(f"CASE WHEN {column} {comparison} %s THEN 1 ELSE 0 END" for _bound in bounds)
    return f"1 + {parts}", list(bounds)


def _update_scores(*, bounds: RfmBounds, now: datetime, customer_id: int | None) -> None:
    """Scores of the customers in the window (the others' are emptied), then every row's segment."""
    recency, recency_params = _score_sql(
        "last_order_at", ">=", [_moment(datetime.fromisoformat(cut)) for cut in bounds.recency_cuts]
    )
    frequency, frequency_params = _score_sql("orders_12m", ">", [int(b) for b in bounds.frequency_bounds])
    monetary, monetary_params = _score_sql("gross_12m", ">", [Decimal(b) for b in bounds.monetary_bounds])
    where = "WHERE customer_id = %s" if customer_id is not None else ""
    only = [customer_id] if customer_id is not None else []
    _execute(
        f"""
        UPDATE {_SNAPSHOT} SET
            recency_score = CASE WHEN orders_12m > 0 THEN {recency} END,
            frequency_score = CASE WHEN orders_12m > 0 THEN {frequency} END,
            monetary_score = CASE WHEN orders_12m > 0 THEN {monetary} END
        {where}
        """,
        [*recency_params, *frequency_params, *monetary_params, *only],
    )
    cases = []
    params: list = [str(Segment.NO_ORDERS), str(Segment.LOST), _moment(now - timedelta(days=new_customer_days()))]
    params.append(str(Segment.NEW))
    for segment, recency_least, frequency_least, monetary_least in SEGMENT_RULES:
        cases.append("WHEN recency_score >= %s AND frequency_score >= %s AND monetary_score >= %s THEN %s")
        params += [recency_least, frequency_least, monetary_least, str(segment)]
    _execute(
        f"""
        UPDATE {_SNAPSHOT} SET segment = CASE
            WHEN orders_count = 0 THEN %s
            WHEN orders_12m = 0 THEN %s
            WHEN first_order_at >= %s THEN %s
            {" ".join(cases)}
            ELSE %s END
        {where}
        """,
        [*params, str(Segment.HIBERNATING), *only],
    )


# --- months and products --------------------------------------------------------------------------


def _insert_months(*, customer_id: int | None) -> None:
    """One row per customer and local calendar month with booked orders; then each customer's first month marked."""
    orders = SalesOrder.objects.filter(status__in=BOOKED)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    grouped = (
        orders.annotate(bucket=TruncMonth("created_at", output_field=DateField()))
        .values("customer_id", "bucket")
        .annotate(n=Count("pk"), net_sum=Sum("subtotal"), gross_sum=Sum("total"))
        .values_list("customer_id", "bucket", "n", "net_sum", "gross_sum")
        .order_by()
    )
    select, params = grouped.query.get_compiler(connection=connection).as_sql()
    _execute(f"INSERT INTO {_MONTH} (customer_id, month, orders, net, gross) {select}", list(params))
    where = "WHERE customer_id = %s" if customer_id is not None else ""
    _execute(
        f"""
        UPDATE {_MONTH} SET is_first_month = %s
        FROM (SELECT customer_id, MIN(month) AS month FROM {_MONTH} {where} GROUP BY customer_id) AS earliest
        WHERE {_MONTH}.customer_id = earliest.customer_id AND {_MONTH}.month = earliest.month
        """,
        [True, *([customer_id] if customer_id is not None else [])],
    )


def _insert_products(*, customer_id: int | None) -> None:
    """One row per customer and product on its booked orders: quantity and net amount ordered, orders, last ordered."""
    booked, booked_params = _in(BOOKED)
    where = "AND so.customer_id = %s" if customer_id is not None else ""
    _execute(
        f"""
        INSERT INTO {_PRODUCT} (customer_id, product_id, quantity, net, orders, last_ordered_at)
        SELECT so.customer_id, line.product_id, SUM(line.quantity), SUM(line.line_net), COUNT(DISTINCT so.id),
            MAX(so.created_at)
        FROM {SalesOrderLine._meta.db_table} line
        INNER JOIN {SalesOrder._meta.db_table} so ON so.id = line.order_id
        WHERE so.status IN ({booked}) {where}
        GROUP BY so.customer_id, line.product_id
        """,
        [*booked_params, *([customer_id] if customer_id is not None else [])],
    )


# --- the two ways in ------------------------------------------------------------------------------


@transaction.atomic
def customer_snapshot_rebuild(*, now: datetime | None = None) -> int:
    """Every customer's snapshot rows from scratch, new quintile bounds; returns how many customers."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # One customer's refresh waits for the rebuild (and then redoes its rows); readers go on reading.
        _execute(f"LOCK TABLE {_SNAPSHOT}, {_MONTH}, {_PRODUCT} IN SHARE ROW EXCLUSIVE MODE", [])
    _execute(f"DELETE FROM {_SNAPSHOT}", [])
    _insert_snapshot_rows(now=now, customer_id=None)
    bounds = rfm_bounds_compute(now=now)
    _update_scores(bounds=bounds, now=now, customer_id=None)
    _execute(f"DELETE FROM {_MONTH}", [])
    _insert_months(customer_id=None)
    _execute(f"DELETE FROM {_PRODUCT}", [])
    _insert_products(customer_id=None)
    snapshot_touch(SNAPSHOT_NAME, rebuilt=True, at=now)
    return CustomerSnapshot.objects.count()


@transaction.atomic
def customer_snapshot_refresh(*, customer_id: int, now: datetime | None = None) -> None:
    """One customer's snapshot rows again, scored against the last rebuild's bounds (safe to run twice)."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # Two refreshes of one customer at once would both insert its rows: the second waits.
        _execute("SELECT pg_advisory_xact_lock(%s, %s)", [_BOUNDS_LOCK_KEY, customer_id])
    _execute(f"DELETE FROM {_SNAPSHOT} WHERE customer_id = %s", [customer_id])
    _insert_snapshot_rows(now=now, customer_id=customer_id)
    bounds = RfmBounds.objects.filter(pk=1).first() or rfm_bounds_compute(now=now)
    _update_scores(bounds=bounds, now=now, customer_id=customer_id)
    _execute(f"DELETE FROM {_MONTH} WHERE customer_id = %s", [customer_id])
    _insert_months(customer_id=customer_id)
    _execute(f"DELETE FROM {_PRODUCT} WHERE customer_id = %s", [customer_id])
    _insert_products(customer_id=customer_id)
    snapshot_touch(SNAPSHOT_NAME, at=now)

"""Making a snapshot table equal a fresh computation by writing only the rows that differ (PostgreSQL).

The full nightly recompute of a snapshot (the cycles', the sales facts') computes every row afresh from the
business tables and compares it with the live table in SQL: rows that differ are deleted, rows that are missing
or changed inserted, and a table already right is not written at all. Nothing is emptied, so readers go on
reading the live rows (the old ones until the commit) and never wait. Scratch tables are temporary and dropped
on commit.

A table of orders' rows (`order_id` among its columns) is first compared by fingerprints: the computation's
rows and the live ones are counted and their 64-bit hashes summed per bucket of ORDERS_PER_BUCKET consecutive
order ids, both sides aggregated by parallel workers with no join of their rows (`orders_that_differ`). Most
nights every bucket agrees and nothing more is done; otherwise only the orders of the buckets that differ are
compared row by row:
- `patch_by_key`: a table with a natural key (an order's cycle row, a figure's day and salesperson) is joined
  to the computation on it, and only the differing rows are set aside.
- `patch_by_order`: a table without one (an order's review cases or stage times: two alike rows may both be
  right) is compared as a multiset, and the orders whose rows differ get all their rows written again.
Different rows with equal sums are a 2^-64 chance per bucket; equal rows always have equal sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

# Orders per fingerprint bucket: about a thousand buckets at a million orders (a few kB compared), and a few
# thousand rows compared row by row for each bucket that differs.
ORDERS_PER_BUCKET = 1000


def _name(identifier: str) -> str:
    return connection.ops.quote_name(identifier)


def _table(model) -> str:
    return _name(model._meta.db_table)


def _row(alias: str, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{alias}.{column}" for column in columns) + ")"


@contextmanager
def planner_settings(cursor, **settings: str | None) -> Iterator[None]:
    """The statements inside planned with these settings (None: the server's own value), and the transaction's
    values (a caller's SET LOCAL) put back after."""
    names = list(settings)
    cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
    values = cursor.fetchone()
    for name, value in settings.items():
        if value is None:
            cursor.execute(f"SET LOCAL {name} TO DEFAULT")
        else:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    try:
        yield
    finally:
        for name, value in zip(names, values, strict=True):
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def orders_that_differ(
    cursor,
    *,
    model,
    columns: tuple[str, ...],
    select: str | list[str],
    params: list | tuple = (),
    ignored: tuple[str, ...] = (),
    planner: dict[str, str] | None = None,
) -> str | None:
    """Compare `model`'s table (rows of orders: `order_id` among `columns`) with `select` (every row computed
    afresh, `columns` in order; or a list of SELECTs whose rows together are the computation, each summed apart:
    an arm that runs in parallel workers is not held back by one that cannot) by fingerprints per bucket of order
    ids, every column but `ignored` hashed in the table's types on both sides; `planner`: settings the statements
    are planned with besides. None when every bucket agrees; else a SQL subquery of the ids of every order in the
    buckets that differ (a temporary table), for the row-by-row comparison of those orders only."""
    types = {field.column: field.db_type(connection) for field in model._meta.concrete_fields}
    hashed = ", ".join(f"CAST({column} AS {types[column]})" for column in columns if column not in ignored)
    size = ORDERS_PER_BUCKET
    fingerprint = f"order_id / {size} AS bucket, COUNT(*) AS n, SUM(hash_record_extended(ROW({hashed}), 0)) AS h"
    arms = [select] if isinstance(select, str) else select
    computed = " UNION ALL ".join(f"SELECT {fingerprint} FROM ({arm}) AS f ({', '.join(columns)}) GROUP BY 1" for arm in arms)
    if len(arms) > 1:
        computed = f"SELECT bucket, SUM(n) AS n, SUM(h) AS h FROM ({computed}) AS arms GROUP BY bucket"
    # Each side summed per bucket by parallel workers, in a statement of its own (joined in one, the planner ran one
    # side in a single process), and the two sets of a few thousand sums compared here. Passing a row from a worker
    # is priced, not nearly free as a caller that writes tables may have made it (the planner then gathers millions
    # of rows to sum them in one process): the live table at the server's price (its buckets have statistics), the
    # computation at a tenth of it, since the planner takes the buckets of a join's order ids for as many groups as
    # the orders, and at the server's price it summed the 3.75M shipped units of a million orders in one process
    # (9.2 s against 4.9 s).
    with planner_settings(cursor, **{"parallel_tuple_cost": "0.01", **(planner or {})}):
        cursor.execute(computed, params)
        fresh = {int(bucket): (int(n), int(h)) for bucket, n, h in cursor.fetchall()}
    with planner_settings(cursor, **{"parallel_tuple_cost": None, **(planner or {})}):
        cursor.execute(f"SELECT {fingerprint} FROM {_table(model)} GROUP BY 1")
        live = {int(bucket): (int(n), int(h)) for bucket, n, h in cursor.fetchall()}
    buckets = sorted(bucket for bucket in fresh.keys() | live.keys() if fresh.get(bucket) != live.get(bucket))
    if not buckets:
        return None
    scratch = _name(f"{model._meta.db_table}_buckets_differ")
    cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
        f"SELECT generate_series(b * {size}, b * {size} + {size - 1}) AS order_id FROM unnest(%s::bigint[]) AS b",
        [buckets],
    )
    cursor.execute(f"ANALYZE {scratch}")
    return f"(SELECT order_id FROM {scratch})"


def patch_by_key(
    cursor,
    *,
    model,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    select: str | Callable[[str], str | list[str]],
    params: list | tuple = (),
    ignored: tuple[str, ...] = (),
    planner: dict[str, str] | None = None,
) -> int:
    """Make `model`'s table equal its computation (its rows, `columns` in order; a row per `keys`, none of them
    NULL), comparing every column but `ignored` (a refresh time). `select`: the SQL of every row; or, for a table
    of orders' rows, a function of `only` giving it (every order's rows for "", else those of the orders in `only`,
    a SQL subquery; for "" it may give a list of SELECTs whose rows together are the computation, fingerprinted
    apart), compared by fingerprints first (their statements planned with `planner`'s settings besides). `params`:
    the SQL's parameters, the same whichever orders it reads. Returns the rows deleted plus inserted."""
    live = _table(model)
    if callable(select):
        only = orders_that_differ(
            cursor, model=model, columns=columns, select=select(""), params=params, ignored=ignored, planner=planner
        )
        if only is None:
            return 0
        computed, compared = select(only), f"(SELECT * FROM {live} WHERE order_id IN {only})"
    else:
        computed, compared = select, live
    scratch = _name(f"{model._meta.db_table}_differs")
    values = tuple(column for column in columns if column not in keys and column not in ignored)
    on = " AND ".join(f"l.{key} = f.{key}" for key in keys)
    live_keys = ", ".join(f"l.{key} AS live_{key}" for key in keys)
    # One pass over both: the computation's rows hash-joined to the live ones, and only what differs kept.
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS
        SELECT f.*, {live_keys}
        FROM ({computed}) AS f ({", ".join(columns)})
        FULL JOIN {compared} l ON {on}
        WHERE f.{keys[0]} IS NULL OR l.{keys[0]} IS NULL OR {_row("f", values)} IS DISTINCT FROM {_row("l", values)}
        """,
        params,
    )
    if not cursor.rowcount:
        cursor.execute(f"DROP TABLE {scratch}")
        return 0
    return _write_differences(cursor, live=live, scratch=scratch, columns=columns, keys=keys)


def _write_differences(cursor, *, live: str, scratch: str, columns: tuple[str, ...], keys: tuple[str, ...]) -> int:
    """The live rows set aside in `scratch` deleted, its computed rows inserted; the scratch table dropped."""
    same_key = " AND ".join(f"l.{key} = s.live_{key}" for key in keys)
    cursor.execute(f"DELETE FROM {live} l USING {scratch} s WHERE {same_key}")
    written = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {live} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {scratch} WHERE {keys[0]} IS NOT NULL"
    )
    written += cursor.rowcount
    cursor.execute(f"DROP TABLE {scratch}")
    return written


def patch_by_order(
    cursor,
    *,
    model,
    columns: tuple[str, ...],
    select: Callable[[str], str | list[str]],
    params: list | tuple = (),
) -> int:
    """Make `model`'s table (rows of orders, `order_id` among `columns`, no natural key) equal its computation,
    `select(only)`: every order's rows for "" (or a list of SELECTs whose rows together are them, fingerprinted
    apart), those of the orders in `only` (a SQL list or subquery) else; `params` its parameters, the same whichever
    orders it reads. The orders whose multiset of rows differs have theirs deleted and computed again. Returns the
    rows deleted plus inserted."""
    live = _table(model)
    only = orders_that_differ(cursor, model=model, columns=columns, select=select(""), params=params)
    if only is None:
        return 0
    changed = _name(f"{model._meta.db_table}_orders_differ")
    listed = ", ".join(columns)
    # Each distinct row of those buckets counted +1 per computed copy and -1 per live one: a row whose count is not
    # 0 is missing, extra or changed (a changed row is one of each), and its order is written again.
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {changed} ON COMMIT DROP AS
        SELECT DISTINCT order_id FROM (
            SELECT order_id FROM (
                SELECT {listed}, 1 AS side FROM ({select(only)}) AS f ({listed})
                UNION ALL SELECT {listed}, -1 FROM {live} WHERE order_id IN {only}
            ) AS both_sides
            GROUP BY {listed} HAVING SUM(side) <> 0
        ) AS differing
        """,
        params,
    )
    written = 0
    if cursor.rowcount:
        differing = f"(SELECT order_id FROM {changed})"
        cursor.execute(f"DELETE FROM {live} WHERE order_id IN {differing}")
        written = cursor.rowcount
        cursor.execute(f"INSERT INTO {live} ({listed}) {select(differing)}", params)
        written += cursor.rowcount
    cursor.execute(f"DROP TABLE {changed}")
    return written

"""Writing many rows at once.

Django's bulk_update builds one CASE per column with a WHEN per row: for thousands of rows building
and running it costs seconds. On PostgreSQL `rows_update` joins the table to its columns' new values
unnested from one array per column (one statement per batch, bound on the server); elsewhere it is
bulk_update.

Django's bulk_create prepares every value of every row through the field (about a microsecond
each) and sends thousands of parameters in one statement. On PostgreSQL `rows_insert` takes the
new rows' ids from the table's sequence in one query and writes the rows with COPY, passing the
values psycopg adapts as they are; elsewhere, or for a few rows, it is bulk_create.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

BATCH = 10_000
COPY_FROM_ROWS = 50  # fewer new rows go through bulk_create
# Values of these exact types are written as they are; any other goes through its field.
_AS_THEY_ARE = frozenset({str, int, bool, Decimal, date, type(None)})


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch builds tens of thousands of objects (a bank
    statement's lines, payments, events): each of its passes walks every one of them again, about a
    third of such a batch's CPU time. Objects are still freed as their last reference goes; the few
    cycles left are collected when the collector runs again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def as_it_is(raw) -> bool:
    """Does psycopg adapt this value the way its field would have prepared it (text, numbers, dates, aware datetimes)?"""
    kind = raw.__class__
    return kind in _AS_THEY_ARE or (kind is datetime and raw.tzinfo is not None) or isinstance(raw, str)


def _writer(field: models.Field, db, *, saving: bool = True):
    """How one column's value is taken from an object: as it is when psycopg adapts it the way
    the field would have prepared it (text, numbers, dates, aware datetimes), else through the field
    (JSON, naive datetimes, lazy text…)."""
    attname = field.attname
    if saving and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), db)

    def value(obj):
        raw = getattr(obj, attname)
        return raw if as_it_is(raw) else field.get_db_prep_save(raw, db)

    return value


def rows_insert(objs: Sequence[models.Model], *, batch_size: int = 1000) -> Sequence[models.Model]:
    """bulk_create for new rows of one model (pk unset), their pks set afterwards: by COPY on PostgreSQL."""
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM_ROWS:
        return model._default_manager.bulk_create(objs, batch_size=batch_size)
    meta = model._meta
    pk = meta.pk
    if any(obj.pk is not None for obj in objs):
        raise ValueError("rows_insert writes new rows only")
    relations = [field for field in meta.concrete_fields if field.is_relation]
    for obj in objs:  # a related object saved after it was assigned gives its pk now, as in bulk_create
        for field in relations:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    if related.pk is None:
                        raise ValueError(f"{model.__name__}.{field.name}: the related object is not saved")
                    setattr(obj, field.attname, related.pk)
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up again
    quote = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(meta.db_table), pk.column, len(objs)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
    fields = [field for field in meta.concrete_fields if not field.generated]
    writers = [_writer(field, db) for field in fields]
    columns = ", ".join(quote(field.column) for field in fields)
    with (
        db.wrap_database_errors,
        db.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row([write(obj) for write in writers])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias
    return objs


def objects_like(prototype: models.Model, changes: Iterable[dict[str, Any]]) -> list[models.Model]:
    """Unsaved copies of an unsaved object, each with some columns (by attname) changed: built from the
    prototype's values positionally, without working out every field's default again (what makes
    Model(**kwargs) cost tens of microseconds). The copies share the prototype's other values."""
    model = type(prototype)
    fields = model._meta.concrete_fields
    values = [getattr(prototype, field.attname) for field in fields]
    position = {field.attname: index for index, field in enumerate(fields)}
    copies = []
    for change in changes:
        row = values.copy()
        for name, value in change.items():
            row[position[name]] = value
        copies.append(model(*row))
    return copies


def _bound_cursor(db):
    """A cursor of this connection (and transaction) that sends the parameters apart from the statement
    (server-side binding): psycopg does not quote thousands of values into the statement's text."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    db.ensure_connection()
    cursor = ServerBindingCursor(db.connection)
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


def rows_update(objs: Sequence[models.Model], fields: Sequence[str], *, batch_size: int = BATCH) -> int:
    """Write these columns of these saved rows from the objects' values; returns how many rows changed."""
    if not objs:
        return 0
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objs, list(fields), batch_size=batch_size)
    db = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = db.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in [pk, *columns])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    # One array per column (sent in binary) unnested into rows: the statement does not grow with the rows.
    arrays = ", ".join(f"CAST(%b AS {field.cast_db_type(db)}[])" for field in [pk, *columns])
    key = quote(pk.column)
    statement = f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE {table}.{key} = v.{key}"
    writers = [_writer(field, db, saving=False) for field in [pk, *columns]]
    changed = 0
    with _bound_cursor(db) as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            cursor.execute(statement, [[write(obj) for obj in batch] for write in writers])
            changed += cursor.rowcount
    return changed

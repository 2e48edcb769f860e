"""Writing many rows' columns at once.

Django's bulk_update builds one CASE per column with a WHEN per row: for thousands of rows building
and running it costs seconds. On PostgreSQL `rows_update` joins the table to a VALUES list instead
(one statement per batch, each value cast to its column's type); elsewhere it is bulk_update.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

BATCH = 2000


def rows_update(objs: Sequence[models.Model], fields: Sequence[str], *, batch_size: int = BATCH) -> int:
    """Write these columns of these saved rows from the objects' values; returns how many rows changed."""
    if not objs:
        return 0
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objs, list(fields), batch_size=batch_size)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in [pk, *columns])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    row = "(" + ", ".join(f"CAST(%s AS {field.cast_db_type(connection)})" for field in [pk, *columns]) + ")"
    changed = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params = []
            for obj in batch:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                params.extend(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))}) AS v({names}) "
                f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )
            changed += cursor.rowcount
    return changed

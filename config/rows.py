"""One row at a time, on the hot paths (an order's entry, checks and allocation): statements built once.

Model.save() and a queryset build their statement through the query compiler on every call; for the few
statements every order sends several times (its timeline and outbox rows, its state's UPDATE, the reads of
the order and its lines) that is most of their cost. These helpers write and read the same rows with the
statement built once per model (and set of columns). Off PostgreSQL, or where saving a model does more
than write its row (a save() of its own, signal receivers), they do what the ORM does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models import F
from django.db.models.lookups import Lookup

from .bulk import _bound_cursor, as_it_is

# One row's INSERT / UPDATE statement per model (and set of columns), built once: Model.save() builds it
# anew through the query compiler on every call, which is most of what writing a timeline or outbox row costs.
_ROW_STATEMENTS: dict[tuple, tuple[str, list[models.Field]]] = {}


def _plain_save(model: type[models.Model]) -> bool:
    """Does saving this model do nothing but write its row (no save() of its own, no signal receivers)?"""
    return (
        model.save is models.Model.save
        and not models.signals.pre_save.has_listeners(model)
        and not models.signals.post_save.has_listeners(model)
    )


def _prepared(field: models.Field, obj: models.Model, db, *, add: bool):
    raw = field.pre_save(obj, add)
    return raw if as_it_is(raw) else field.get_db_prep_save(raw, db)


def _statement(key: tuple, build) -> tuple:
    """The statement (and its columns) cached under key, built by build(meta, quote) the first time."""
    statement = _ROW_STATEMENTS.get(key)
    if statement is None:
        model = key[0]
        statement = _ROW_STATEMENTS[key] = build(model._meta, connections[DEFAULT_DB_ALIAS].ops.quote_name)
    return statement


def _take_related_keys(obj: models.Model, fields) -> None:
    """A related object saved after it was assigned gives its pk now, as save() and bulk_create do."""
    for field in fields:
        if field.is_relation and getattr(obj, field.attname) is None and field.is_cached(obj):
            related = field.get_cached_value(obj)
            if related is not None:
                setattr(obj, field.attname, related.pk)


def _insert_statement(meta, quote) -> tuple[str, list]:
    fields = [field for field in meta.concrete_fields if not field.generated and field is not meta.pk]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def row_insert(obj: models.Model) -> models.Model:
    """obj.save() of a new row (pk unset) with the statement built once per model; plain save() where
    saving does more than write the row, or off PostgreSQL."""
    model = type(obj)
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or obj.pk is not None or not _plain_save(model):
        obj.save(force_insert=True)
        return obj
    sql, fields = _statement((model, "insert"), _insert_statement)
    _take_related_keys(obj, fields)
    values = [_prepared(field, obj, db, add=True) for field in fields]
    with _bound_cursor(db) as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


def row_update(obj: models.Model, fields: Sequence[str]) -> None:
    """obj.save(update_fields=fields) with the statement built once per model and set of columns; plain
    save() where saving does more than write the row, or off PostgreSQL."""
    model = type(obj)
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or obj.pk is None or not _plain_save(model):
        obj.save(update_fields=fields)
        return

    def build(meta, quote) -> tuple[str, list]:
        columns = [meta.get_field(name) for name in dict.fromkeys(fields)]
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(field.column)} = %s' for field in columns)}"
            f" WHERE {quote(meta.pk.column)} = %s"
        )
        return sql, columns

    sql, columns = _statement((model, tuple(fields)), build)
    values = [_prepared(field, obj, db, add=False) for field in columns]
    with _bound_cursor(db) as cursor:
        cursor.execute(sql, [*values, obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def _converters(field: models.Field, db) -> list:
    """What the ORM applies to a column's value as it is read (the backend's, then the field's)."""
    column = field.get_col("t0")
    return [*db.ops.get_db_converters(column), *field.get_db_converters(db)]


def rows_fetch(
    model: type[models.Model],
    *,
    where: dict[str, Any],
    related: Sequence[str] = (),
    order_by: Sequence[str] = (),
    lock: bool = False,
) -> list[models.Model]:
    """model.objects.filter(**where).select_related(*related).order_by(*order_by), with
    select_for_update(of=("self",)) when lock: `where` compares columns (attnames) for equality,
    `related` names foreign keys of the model, `order_by` attnames (ascending). A list or tuple value is
    matched as IN (`= ANY`)."""
    db = connections[DEFAULT_DB_ALIAS]
    manager = model._default_manager
    if db.vendor != "postgresql" or type(manager).get_queryset is not models.Manager.get_queryset:
        queryset = manager.filter(**where).select_related(*related).order_by(*order_by)
        return list(queryset.select_for_update(of=("self",)) if lock else queryset)
    listed = tuple(isinstance(value, list | tuple) for value in where.values())
    key = (model, "fetch", tuple(where), listed, tuple(related), tuple(order_by), lock)
    plan = _ROW_STATEMENTS.get(key)
    if plan is None:
        plan = _ROW_STATEMENTS[key] = _fetch_plan(
            model, db, where=dict(zip(where, listed, strict=True)), related=related, order_by=order_by, lock=lock
        )
    sql, parts = plan
    with _bound_cursor(db) as cursor:
        cursor.execute(sql, [list(value) if is_list else value for value, is_list in zip(where.values(), listed, strict=True)])
        rows = cursor.fetchall()
    return _objects(rows, parts, db)


def _objects(rows, parts, db) -> list[models.Model]:
    """Model instances (with their joined related rows) from rows read by a _fetch_plan's statement."""
    found = []
    for row in rows:
        objects = []
        for part_model, start, stop, converters, fk in parts:
            values = list(row[start:stop])
            for index, functions, expression in converters:
                for convert in functions:
                    values[index] = convert(values[index], expression, db)
            if fk is not None and getattr(objects[0], fk.attname) is None:  # a null key: nothing joined
                fk.set_cached_value(objects[0], None)
                continue
            obj = part_model.from_db(db.alias, None, values)
            if fk is not None:
                fk.set_cached_value(objects[0], obj)
            objects.append(obj)
        found.append(objects[0])
    return found


def _fetch_plan(model, db, *, where, related, order_by, lock) -> tuple[str, list]:
    quote = db.ops.quote_name
    meta = model._meta
    columns: list[str] = []
    joins: list[str] = []
    parts = []
    for alias, part_model, fk in [("t0", model, None)] + [
        (f"t{n}", meta.get_field(name).related_model, meta.get_field(name)) for n, name in enumerate(related, 1)
    ]:
        fields = part_model._meta.concrete_fields
        start = len(columns)
        columns += [f"{alias}.{quote(field.column)}" for field in fields]
        converters = [(i, found, field.get_col(alias)) for i, field in enumerate(fields) if (found := _converters(field, db))]
        parts.append((part_model, start, len(columns), converters, fk))
        if fk is not None:
            target = quote(fk.target_field.column)
            joins.append(f" LEFT JOIN {quote(part_model._meta.db_table)} {alias} ON {alias}.{target} = t0.{quote(fk.column)}")
    conditions = (
        " AND ".join(
            f"t0.{quote(meta.get_field(name).column)} = {'ANY(%s)' if is_list else '%s'}" for name, is_list in where.items()
        )
        or "TRUE"
    )
    order = ", ".join(f"t0.{quote(meta.get_field(name).column)}" for name in order_by)
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} t0{''.join(joins)} WHERE {conditions}"
        + (f" ORDER BY {order}" if order else "")
        + (" FOR UPDATE OF t0" if lock else "")
    )
    return sql, parts


def rows_select(
    model: type[models.Model],
    where: str,
    params: Sequence = (),
    *,
    related: Sequence[str] = (),
    tail: str = "",
    lock: bool = False,
    skip_locked: bool = False,
) -> list[models.Model]:
    """The rows of `SELECT <every column> FROM <table> t0 [LEFT JOIN <related> t1 …] WHERE <where><tail>`, as
    model instances with their `related` rows cached: `where` is a condition written in SQL over the aliases
    (t0, then t1… for each foreign key in `related`), `tail` an ORDER BY and LIMIT; `lock` adds FOR UPDATE OF t0
    (SKIP LOCKED with skip_locked) where the database has it. For reads a queryset cannot say, or says at too
    high a price on the hot path: the statement is built once and sent as hot_cursor() sends it."""
    db = connections[DEFAULT_DB_ALIAS]
    key = (model, "select", where, tuple(related), tail, lock, skip_locked)
    plan = _ROW_STATEMENTS.get(key)
    if plan is None:
        sql, parts = _fetch_plan(model, db, where={}, related=related, order_by=(), lock=False)
        locking = ""
        if lock and db.features.has_select_for_update:
            locking = " FOR UPDATE OF t0" if db.features.has_select_for_update_of else " FOR UPDATE"
            locking += " SKIP LOCKED" if skip_locked and db.features.has_select_for_update_skip_locked else ""
        plan = _ROW_STATEMENTS[key] = (sql.replace(" WHERE TRUE", f" WHERE {where}{tail}{locking}"), parts)
    sql, parts = plan
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _objects(rows, parts, db)


def hot_cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor for a raw statement the app sends on every order or request. On PostgreSQL its parameters
    travel apart from its text (bound on the server) and, from its fifth run on a connection, it is prepared:
    PostgreSQL plans it once per connection instead of on every run (settings: DB_PREPARED_STATEMENTS). The
    statement's text must be the same on every run (values as parameters, never formatted in), and each
    parameter's type must follow from the statement (`%s::text` where it stands alone). Elsewhere, the
    ordinary cursor."""
    db = connections[using]
    return _bound_cursor(db) if db.vendor == "postgresql" else db.cursor()


def sql_in(values: Sequence) -> tuple[str, list]:
    """`column <this>` matching any of these values, and its parameters: one array parameter on PostgreSQL (the
    statement's text is the same for any number of values, so it is prepared once), an IN list elsewhere."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def any_of(name: str, values: Sequence, field: models.Field):
    """A filter for queryset.filter(): the field `name` equal to any of `values`. On PostgreSQL one array parameter
    (`= ANY(%s)`: a few thousand values cost the ORM and the database no more than one); `__in` elsewhere. `field`
    is the type of the values (the field's own, unbound)."""
    values = list(values)
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return models.Q(**{f"{name}__in": values})
    from django.contrib.postgres.fields import ArrayField

    return _EqualsAny(F(name), models.Value(values, output_field=ArrayField(field)))


class _EqualsAny(Lookup):
    """`lhs = ANY(rhs)`, rhs an array (any_of)."""

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def row_get(model: type[models.Model], pk, *, related: Sequence[str] = (), lock: bool = False) -> models.Model | None:
    """The row with this primary key (its foreign keys in `related` read with it, locked when lock), or None."""
    found = rows_fetch(model, where={model._meta.pk.attname: pk}, related=related, lock=lock)
    return found[0] if found else None


_UNNESTABLE = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def rows_insert_few(objs: Sequence[models.Model]) -> Sequence[models.Model]:
    """bulk_create for a few new rows of one model (an order's lines, their reservations): one INSERT from
    one array per column, the statement built once per model; their pks set. bulk_create where a column
    does not travel in an array as it is (JSON…), where saving does more than write the row, or off PostgreSQL."""
    if not objs:
        return objs
    model = type(objs[0])
    db = connections[DEFAULT_DB_ALIAS]
    key = (model, "insert_many")
    statement = _ROW_STATEMENTS.get(key)
    if statement is None and db.vendor == "postgresql" and _plain_save(model):
        meta = model._meta
        fields = [field for field in meta.concrete_fields if not field.generated and field is not meta.pk]
        if all(field.get_internal_type() in _UNNESTABLE for field in fields):
            quote = db.ops.quote_name
            arrays = ", ".join(f"CAST(%s AS {field.cast_db_type(db)}[])" for field in fields)
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
                f" SELECT * FROM unnest({arrays}) RETURNING {quote(meta.pk.column)}"
            )
            statement = _ROW_STATEMENTS[key] = (sql, fields)
    if statement is None or db.vendor != "postgresql" or any(obj.pk is not None for obj in objs):
        return model._default_manager.bulk_create(objs)
    sql, fields = statement
    for obj in objs:
        _take_related_keys(obj, fields)
    columns = [[_prepared(field, obj, db, add=True) for obj in objs] for field in fields]
    with _bound_cursor(db) as cursor:
        cursor.execute(sql, columns)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
    return objs

"""Trigram indexes for the order list's text search (number, customer PO, customer name, other
name and code): `icontains` is UPPER(column) LIKE UPPER('%…%'), which only a trigram index on the
same expression serves. PostgreSQL only; SQLite (the embedded default) scans, which is fine at its size."""

from django.db import migrations

SEARCHED = [
    ("order_number_trgm", "orders_salesorder", "number"),
    ("order_po_trgm", "orders_salesorder", "customer_po"),
    ("customer_name_trgm", "customers_customer", "name"),
    ("customer_alt_name_trgm", "customers_customer", "alt_name"),
    ("customer_code_trgm", "customers_customer", "code"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in SEARCHED:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in SEARCHED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_list_indexes"), ("customers", "0004_credit_terms_permission")]

    operations = [migrations.RunPython(create, drop)]

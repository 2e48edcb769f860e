"""Planner statistics on the order-id buckets that the full recompute fingerprints (reports.patching): without
them PostgreSQL takes `order_id / 1000` to have as many values as order_id, and sums a live table's millions of
rows in one process instead of in its parallel workers. PostgreSQL only (SQLite has no such statistics)."""

from django.db import migrations

# reports.patching.ORDERS_PER_BUCKET when this was written (a test checks they agree).
BUCKET = 1000
TABLES = [
    "reports_saleslinefact",
    "reports_marginlinefact",
    "reports_ordercycle",
    "reports_reviewcase",
    "reports_reviewflag",
    "reports_cyclestagetime",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {table}_order_bucket ON ((order_id / {BUCKET})) FROM {table}")
        schema_editor.execute(f"ANALYZE {table}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {table}_order_bucket")


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_risk_open_counts_index")]

    operations = [migrations.RunPython(create, drop)]

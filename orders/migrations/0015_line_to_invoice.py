"""The lines still to invoice: a partial index, and (PostgreSQL 14 or newer) planner statistics on the expression it
is built on, so the planner knows how few lines wait to be invoiced beside the millions invoiced and reads them from
the index instead of probing every delivered order's lines (orders.models.units_to_invoice)."""

import django.db.models.expressions
import django.db.models.lookups
from django.db import migrations, models


STATISTICS = "orders_line_to_invoice"


def statistics_create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and connection.pg_version >= 140000:
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS}"
            " ON ((quantity_shipped - quantity_returned) - quantity_invoiced) FROM orders_salesorderline"
        )
        schema_editor.execute("ANALYZE orders_salesorderline")


def statistics_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_movement_unit_cost_product_category"),
        ("orders", "0014_pick_queue_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="salesorderline",
            index=models.Index(
                condition=models.Q(
                    django.db.models.lookups.GreaterThan(
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("quantity_shipped"), "-", models.F("quantity_returned")
                            ),
                            "-",
                            models.F("quantity_invoiced"),
                        ),
                        0,
                    )
                ),
                fields=["order"],
                name="order_line_to_invoice",
            ),
        ),
        migrations.RunPython(statistics_create, statistics_drop, elidable=False),
    ]

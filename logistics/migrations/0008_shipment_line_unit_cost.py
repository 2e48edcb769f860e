from django.db import migrations, models

# Lines of shipments that left before the column existed take their cost from the ledger's shipment movement of
# their product, warehouse and shipment number (what the margin facts joined the ledger for until then).
_FROM_LEDGER = """
    UPDATE logistics_shipmentline SET unit_cost = (
        SELECT m.unit_cost FROM inventory_stockmovement m JOIN logistics_shipment s ON s.number = m.document
        WHERE s.id = logistics_shipmentline.shipment_id AND m.product_id = logistics_shipmentline.product_id
          AND m.warehouse_id = s.warehouse_id AND m.kind = 'shipment' AND m.quantity < 0 AND m.reverses_id IS NULL
        ORDER BY m.id LIMIT 1
    )
    WHERE unit_cost IS NULL AND shipment_id IN (SELECT id FROM logistics_shipment WHERE shipped_at IS NOT NULL)
"""
# PostgreSQL: one hash join instead of a subquery per line (millions of lines).
_FROM_LEDGER_JOINED = """
    UPDATE logistics_shipmentline sl SET unit_cost = m.unit_cost
    FROM logistics_shipment s, inventory_stockmovement m
    WHERE s.id = sl.shipment_id AND s.shipped_at IS NOT NULL AND m.document = s.number AND m.product_id = sl.product_id
      AND m.warehouse_id = s.warehouse_id AND m.kind = 'shipment' AND m.quantity < 0 AND m.reverses_id IS NULL
      AND m.unit_cost IS NOT NULL AND sl.unit_cost IS NULL
"""


def unit_costs_from_ledger(apps, schema_editor):
    sql = _FROM_LEDGER_JOINED if schema_editor.connection.vendor == "postgresql" else _FROM_LEDGER
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_movement_unit_cost_product_category"),
        ("logistics", "0007_home_queue_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipmentline",
            name="unit_cost",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="unit cost"),
        ),
        migrations.RunPython(unit_costs_from_ledger, migrations.RunPython.noop, elidable=True),
    ]

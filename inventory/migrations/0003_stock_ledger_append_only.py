"""The stock ledger is append-only in the database itself: UPDATE and DELETE raise an error,
whatever code runs (the ORM, a shell, a raw SQL session)."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION inventory_stockmovement_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only: % refused (post a reversing movement instead)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_no_update BEFORE UPDATE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_refuse_change();
CREATE TRIGGER inventory_stockmovement_no_delete BEFORE DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_refuse_change();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_stockmovement_no_update ON inventory_stockmovement;
DROP TRIGGER IF EXISTS inventory_stockmovement_no_delete ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_stockmovement_refuse_change();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER inventory_stockmovement_no_update BEFORE UPDATE ON inventory_stockmovement
       BEGIN SELECT RAISE(ABORT, 'stock movements are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER inventory_stockmovement_no_delete BEFORE DELETE ON inventory_stockmovement
       BEGIN SELECT RAISE(ABORT, 'stock movements are append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inventory_stockmovement_no_update;",
    "DROP TRIGGER IF EXISTS inventory_stockmovement_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # params=None: the "%" in RAISE is not a placeholder
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_stock")]

    operations = [migrations.RunPython(forward, backward)]

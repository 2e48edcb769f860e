"""Issued invoices and credit notes cannot be changed or deleted, whatever code runs (the ORM, a
shell, a raw SQL session): the database refuses it.

What may still change on an issued invoice: `amount_paid` and `amount_credited` (maintained by the
payments and credit note services); `fapiao_number`, `pdf` and `pdf_sha256` may be filled once when
empty (the tax platform's number and the stored PDF arrive after the issuing transaction), never
altered. On an issued credit note: `amount_refunded`, and the same set-once columns. Lines of an
issued document cannot be inserted, changed or deleted.
"""

from django.db import migrations

SET_ONCE = ["fapiao_number", "pdf", "pdf_sha256"]
INVOICE_FREE = ["amount_paid", "amount_credited"]
CREDIT_NOTE_FREE = ["amount_refunded"]


def _pg_document_function(table: str, free: list[str]) -> str:
    strip = " - ".join(f"'{column}'" for column in free + SET_ONCE)
    set_once = "\n".join(
        f"""        IF OLD.{column} <> '' AND NEW.{column} IS DISTINCT FROM OLD.{column} THEN
            RAISE EXCEPTION '%: {column} of an issued document is set once', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END IF;"""
        for column in SET_ONCE
    )
    return f"""
CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'issued' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '%: an issued document cannot be deleted (issue a credit note instead)', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (to_jsonb(NEW) - {strip}) IS DISTINCT FROM (to_jsonb(OLD) - {strip}) THEN
        RAISE EXCEPTION '%: an issued document cannot be changed', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
{set_once}
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_issued_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
CREATE TRIGGER {table}_issued_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
"""


def _pg_line_function(table: str, parent_table: str, parent_column: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
        SELECT 1 FROM {parent_table} WHERE id = OLD.{parent_column} AND status = 'issued'
    ) OR TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
        SELECT 1 FROM {parent_table} WHERE id = NEW.{parent_column} AND status = 'issued'
    ) THEN
        RAISE EXCEPTION '%: the lines of an issued document cannot change (% refused)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_issued_lines_fixed BEFORE INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
"""


PG_FORWARD = (
    _pg_document_function("billing_invoice", INVOICE_FREE)
    + _pg_document_function("billing_creditnote", CREDIT_NOTE_FREE)
    + _pg_line_function("billing_invoiceline", "billing_invoice", "invoice_id")
    + _pg_line_function("billing_creditnoteline", "billing_creditnote", "credit_note_id")
)
PG_BACKWARD = """
DROP TRIGGER IF EXISTS billing_invoice_issued_no_update ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoice_issued_no_delete ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_refuse_change();
DROP TRIGGER IF EXISTS billing_creditnote_issued_no_update ON billing_creditnote;
DROP TRIGGER IF EXISTS billing_creditnote_issued_no_delete ON billing_creditnote;
DROP FUNCTION IF EXISTS billing_creditnote_refuse_change();
DROP TRIGGER IF EXISTS billing_invoiceline_issued_lines_fixed ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_refuse_change();
DROP TRIGGER IF EXISTS billing_creditnoteline_issued_lines_fixed ON billing_creditnoteline;
DROP FUNCTION IF EXISTS billing_creditnoteline_refuse_change();
"""


def _sqlite_document_triggers(table: str, free: list[str], schema_editor) -> list[str]:
    # SQLite has no row-to-JSON: compare every column that exists now except the free ones.
    with schema_editor.connection.cursor() as cursor:
        columns = [row[1] for row in cursor.execute(f"PRAGMA table_info({table})").fetchall()]
    fixed = [c for c in columns if c not in free + SET_ONCE]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
    set_once = " OR ".join(f"(OLD.{c} <> '' AND NEW.{c} IS NOT OLD.{c})" for c in SET_ONCE)
    return [
        f"""CREATE TRIGGER {table}_issued_no_update BEFORE UPDATE ON {table}
           WHEN OLD.status = 'issued' AND ({changed} OR {set_once})
           BEGIN SELECT RAISE(ABORT, 'an issued document cannot be changed'); END;""",
        f"""CREATE TRIGGER {table}_issued_no_delete BEFORE DELETE ON {table} WHEN OLD.status = 'issued'
           BEGIN SELECT RAISE(ABORT, 'an issued document cannot be deleted'); END;""",
    ]


def _sqlite_line_triggers(table: str, parent_table: str, parent_column: str) -> list[str]:
    issued = "(SELECT status FROM {parent} WHERE id = {row}.{column}) = 'issued'"
    return [
        f"""CREATE TRIGGER {table}_issued_no_{op.lower()} BEFORE {op} ON {table}
           WHEN {issued.format(parent=parent_table, row=row, column=parent_column)}
           BEGIN SELECT RAISE(ABORT, 'the lines of an issued document cannot change'); END;"""
        for op, row in [("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")]
    ]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # params=None: the "%" in RAISE is not a placeholder
    elif vendor == "sqlite":
        statements = (
            _sqlite_document_triggers("billing_invoice", INVOICE_FREE, schema_editor)
            + _sqlite_document_triggers("billing_creditnote", CREDIT_NOTE_FREE, schema_editor)
            + _sqlite_line_triggers("billing_invoiceline", "billing_invoice", "invoice_id")
            + _sqlite_line_triggers("billing_creditnoteline", "billing_creditnote", "credit_note_id")
        )
        for statement in statements:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for table in ["billing_invoice", "billing_creditnote"]:
            for suffix in ["issued_no_update", "issued_no_delete"]:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix};")
        for table in ["billing_invoiceline", "billing_creditnoteline"]:
            for op in ["insert", "update", "delete"]:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_issued_no_{op};")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

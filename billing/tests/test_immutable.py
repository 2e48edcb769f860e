"""An issued invoice or credit note is refused any change by the database itself (raw SQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _insert_invoice(*, status: str = "issued") -> Invoice:
    """An invoice with one line written straight to the tables (the services are tested elsewhere)."""
    customer = CustomerFactory()
    invoice = Invoice.objects.create(
        customer=customer,
        buyer_name=customer.name,
        total_net=Decimal("100.00"),
        total_tax=Decimal("13.00"),
        total_gross=Decimal("113.00"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        description="Widget",
        quantity=1,
        unit_price=Decimal("100"),
        tax_rate=Decimal("0.13"),
        net=Decimal("100.00"),
        tax=Decimal("13.00"),
        gross=Decimal("113.00"),
    )
    if status == "issued":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_invoice SET status = 'issued', number = %s, issued_at = %s WHERE id = %s",
                [f"INV-T-{invoice.pk}", timezone.now(), invoice.pk],
            )
    return invoice


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError, match="issued"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "assignment",
    [
        "total_gross = 1.00, total_net = 1.00, total_tax = 0",
        "buyer_name = 'Someone else'",
        "status = 'draft'",
        "number = 'INV-2026-999999'",
        "due_date = '2030-01-01'",
        "customer_id = (SELECT max(id) FROM customers_customer)",
    ],
)
def test_issued_invoice_business_fields_are_refused(assignment):
    invoice = _insert_invoice()
    CustomerFactory()  # another customer to move it to
    _refused(f"UPDATE billing_invoice SET {assignment} WHERE id = %s", [invoice.pk])


def test_issued_invoice_cannot_be_deleted():
    invoice = _insert_invoice()
    _refused("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_issued_invoice_lines_cannot_change_be_added_or_deleted():
    invoice = _insert_invoice()
    line = invoice.lines.get()
    _refused("UPDATE billing_invoiceline SET description = 'x' WHERE id = %s", [line.pk])
    _refused("DELETE FROM billing_invoiceline WHERE id = %s", [line.pk])
    _refused(
        "INSERT INTO billing_invoiceline (invoice_id, position, description, tax_classification_code, unit, quantity,"
        " unit_price, tax_rate, net, tax, gross) VALUES (%s, 2, 'x', '', '', 1, 1, 0, 1, 0, 1)",
        [invoice.pk],
    )


def test_payment_columns_of_an_issued_invoice_may_change():
    invoice = _insert_invoice()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET amount_paid = 50.00, amount_credited = 13.00 WHERE id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_credited, invoice.open_amount) == (
        Decimal("50.00"),
        Decimal("13.00"),
        Decimal("50.00"),
    )


def test_fapiao_number_and_pdf_are_set_once():
    invoice = _insert_invoice()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET fapiao_number = '12345678', pdf = 'a.pdf', pdf_sha256 = 'ab' WHERE id = %s",
            [invoice.pk],
        )
    _refused("UPDATE billing_invoice SET fapiao_number = '87654321' WHERE id = %s", [invoice.pk])
    _refused("UPDATE billing_invoice SET pdf = 'b.pdf' WHERE id = %s", [invoice.pk])


def test_draft_invoice_may_change_and_be_deleted():
    invoice = _insert_invoice(status="draft")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoiceline SET description = 'changed' WHERE invoice_id = %s", [invoice.pk])
        cursor.execute("UPDATE billing_invoice SET buyer_name = 'changed' WHERE id = %s", [invoice.pk])
        cursor.execute("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [invoice.pk])
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


def test_issued_credit_note_and_its_lines_are_refused_but_refunds_may_change():
    invoice = _insert_invoice()
    note = CreditNote.objects.create(
        invoice=invoice,
        customer=invoice.customer,
        reason="price_concession",
        total_net=Decimal("10.00"),
        total_tax=Decimal("1.30"),
        total_gross=Decimal("11.30"),
    )
    line = CreditNoteLine.objects.create(
        credit_note=note,
        invoice_line=invoice.lines.get(),
        position=1,
        description="Widget",
        tax_rate=Decimal("0.13"),
        net=Decimal("10.00"),
        tax=Decimal("1.30"),
        gross=Decimal("11.30"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_creditnote SET status = 'issued', number = 'CN-T-1', issued_at = now() WHERE id = %s", [note.pk]
        )
        cursor.execute("UPDATE billing_creditnote SET amount_refunded = 11.30 WHERE id = %s", [note.pk])
    _refused("UPDATE billing_creditnote SET total_gross = 1, total_net = 1, total_tax = 0 WHERE id = %s", [note.pk])
    _refused("DELETE FROM billing_creditnote WHERE id = %s", [note.pk])
    _refused("UPDATE billing_creditnoteline SET description = 'x' WHERE id = %s", [line.pk])
    _refused("DELETE FROM billing_creditnoteline WHERE id = %s", [line.pk])

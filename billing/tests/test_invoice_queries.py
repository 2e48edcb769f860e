"""Invoicing a delivery takes as many SQL statements for 500 lines as for 5."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.credit_notes.services import credit_note_draft, credit_note_issue
from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from billing.tests.factories import company_customer, finance_user, shipped_order
from inventory.models import Product
from inventory.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _products(count: int) -> list[Product]:
    return Product.objects.bulk_create([ProductFactory.build() for _ in range(count)])


def _statements(order, finance) -> tuple[int, int, int]:
    with CaptureQueriesContext(connection) as drafting:
        invoice = invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice
    with CaptureQueriesContext(connection) as issuing:
        invoice = invoice_issue(invoice=invoice, by=finance)
    note = credit_note_draft(invoice=invoice, reason="wrong_invoice", by=finance)
    with CaptureQueriesContext(connection) as crediting:
        credit_note_issue(credit_note=note, by=finance)
    assert invoice.lines.count() == order.lines.count()
    return len(drafting), len(issuing), len(crediting)


def test_invoicing_500_lines_takes_as_many_statements_as_5(settings):
    settings.OUTBOX_HANDLERS = {t: p for t, p in settings.OUTBOX_HANDLERS.items() if not t.startswith("billing.")}
    finance = finance_user()
    assert finance.has_perm("billing.issue_invoice")  # the permission cache is loaded once, before counting
    customer = company_customer()
    small = shipped_order(lines=[(product, 2) for product in _products(5)], customer=customer)
    large = shipped_order(lines=[(product, 2) for product in _products(500)], customer=customer)

    assert _statements(large, finance) == _statements(small, finance)

"""The billing demo: invoices of shipped orders issued and drafted, and a credit note, seeded once."""

from __future__ import annotations

import io

import pytest

from billing.demo import seed
from billing.models import CreditNote, Invoice
from billing.tests.factories import company_customer, finance_user, shipped_order

pytestmark = pytest.mark.django_db


def test_demo_seeds_draft_and_issued_invoices_and_a_credit_note_once():
    finance = finance_user()
    for _ in range(3):
        shipped_order(customer=company_customer(), quantity=3)
    out = io.StringIO()

    seed(users={"finance": finance}, stdout=out)
    seed(users={"finance": finance}, stdout=out)

    assert sorted(Invoice.objects.values_list("status", flat=True)) == ["draft", "issued", "issued"]
    note = CreditNote.objects.get()
    assert note.status == "issued" and note.red_letter_number  # the demo customers get special VAT invoices
    credited = note.invoice
    credited.refresh_from_db()
    assert credited.amount_credited == note.total_gross > 0
    assert "3 invoices" in out.getvalue()

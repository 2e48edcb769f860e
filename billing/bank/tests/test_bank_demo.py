"""The demo statement: imported through the service, one line paid automatically, the others waiting; once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.bank.demo import seed
from billing.bank.models import BankImport, BankStatementLine
from config.demo import seed_users

from .conftest import issued_invoice

pytestmark = pytest.mark.django_db


def test_the_demo_imports_a_statement_with_matched_and_unmatched_lines():
    users = seed_users()
    paid = issued_invoice(gross="2260.00")
    partly = issued_invoice(gross="1000.00")
    seed(users=users)
    lines = list(BankStatementLine.objects.order_by("pk"))
    assert [line.status for line in lines] == ["matched", "unmatched", "unmatched", "unmatched"]
    assert lines[0].customer == paid.customer and lines[1].suggestions.filter(invoice=partly).exists()
    assert type(paid).objects.get(pk=paid.pk).amount_paid == Decimal("2260.00")
    seed(users=users)
    assert BankImport.objects.count() == 1 and BankStatementLine.objects.count() == 4

"""Bank statement tests: the company's account, a finance clerk, and issued invoices made directly."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from billing.bank.models import BankAccount
from billing.models import Invoice, InvoiceLine
from config.actors import Actor
from customers.tests.factories import CustomerFactory

FILES = Path(__file__).parent / "files"
_serial = itertools.count(1)


@pytest.fixture
def account(db):
    """The account of the camt.053/ICBC test files."""
    return BankAccount.objects.create(code="ICBC", name="ICBC basic account", number="3100 1234 5678 0001", currency="CNY")


@pytest.fixture
def clerk(make_user):
    return make_user("finance")


@pytest.fixture
def actor(clerk):
    return Actor.of(clerk)


def issued_invoice(
    customer=None, gross: str | Decimal = "1130.00", *, number: str = "", order=None, due_days: int = 30
) -> Invoice:
    """An issued invoice of `gross` (one line, 13 % VAT), written the way issuing leaves it."""
    customer = customer or CustomerFactory()
    gross = Decimal(gross)
    net = (gross / Decimal("1.13")).quantize(Decimal("0.01"))
    invoice = Invoice.objects.create(
        customer=customer, buyer_name=customer.name, total_net=net, total_tax=gross - net, total_gross=gross
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        order=order,
        description="Goods",
        quantity=1,
        unit_price=net,
        tax_rate=Decimal("0.13"),
        net=net,
        tax=gross - net,
        gross=gross,
    )
    number = number or f"INV-{timezone.localdate().year}-{900000 + next(_serial):06d}"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET status = 'issued', number = %s, issued_at = %s, due_date = %s WHERE id = %s",
            [number, timezone.now(), timezone.localdate() + timedelta(days=due_days), invoice.pk],
        )
    invoice.refresh_from_db()
    return invoice

"""Test data for payments: issued invoices of an order (rows as issuing leaves them), payments through the services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import CreditNote, CreditNoteLine, CreditNoteStatus, Invoice, InvoiceLine, InvoiceStatus
from billing.payments.models import PaymentMethod
from billing.payments.services import payment_record
from customers.tests.factories import AddressFactory, CustomerFactory
from inventory.tests.factories import ProductFactory
from orders.entry.services import order_next_number
from orders.models import SalesOrder, SalesOrderLine

_numbers = itertools.count(1)


def bare_order(*, customer, by, status: str = "shipped") -> SalesOrder:
    """An order row in a given state with one line (for invoices that need an order to point at)."""
    address = customer.addresses.first() or AddressFactory(customer=customer)
    order = SalesOrder.objects.create(
        number=order_next_number(), customer=customer, shipping_address=address, created_by=by, status=status
    )
    product = ProductFactory()
    SalesOrderLine.objects.create(
        order=order,
        position=1,
        product=product,
        description=product.name,
        quantity=1,
        unit_price=Decimal("100.00"),
        tax_rate=Decimal("0.13"),
        line_net=Decimal("100.00"),
        line_tax=Decimal("13.00"),
        line_total=Decimal("113.00"),
    )
    return order


def issued_invoice(
    *,
    customer=None,
    order: SalesOrder | None = None,
    gross: Decimal | str = "1130.00",
    due_date: date | None = None,
    by=None,
) -> Invoice:
    """An issued invoice of `gross` (13 % VAT inside) with one line of the order, numbered and due as issuing leaves it."""
    gross = Decimal(gross)
    customer = customer or (order.customer if order is not None else CustomerFactory())
    net = (gross / Decimal("1.13")).quantize(Decimal("0.01"))
    tax = gross - net
    with transaction.atomic():
        invoice = Invoice.objects.create(
            customer=customer, buyer_name=customer.name, total_net=net, total_tax=tax, total_gross=gross
        )
        order_line = order.lines.order_by("position").first() if order is not None else None
        InvoiceLine.objects.create(
            invoice=invoice,
            position=1,
            order=order,
            order_line=order_line,
            description="测试发票行",
            quantity=1,
            unit_price=net,
            tax_rate=Decimal("0.13"),
            net=net,
            tax=tax,
            gross=gross,
        )
        issued_at = timezone.now()
        Invoice.objects.filter(pk=invoice.pk).update(
            status=InvoiceStatus.ISSUED,
            number=f"INV-T-{next(_numbers):06d}",
            issued_at=issued_at,
            due_date=due_date or timezone.localdate() + timedelta(days=30),
        )
    return Invoice.objects.get(pk=invoice.pk)


def invoice_fully(order: SalesOrder) -> None:
    """Mark every shipped unit of the order invoiced (what invoicing records on the order lines)."""
    SalesOrderLine.objects.filter(order=order).update(quantity_invoiced=F("quantity_shipped") - F("quantity_returned"))


def issued_credit_note(*, invoice: Invoice, gross: Decimal | str) -> CreditNote:
    """An issued credit note taking `gross` back from the invoice, with the invoice's credited amount moved as issuing does."""
    gross = Decimal(gross)
    net = (gross / Decimal("1.13")).quantize(Decimal("0.01"))
    with transaction.atomic():
        note = CreditNote.objects.create(
            invoice=invoice,
            customer=invoice.customer,
            reason="price_concession",
            total_net=net,
            total_tax=gross - net,
            total_gross=gross,
        )
        CreditNoteLine.objects.create(
            credit_note=note,
            invoice_line=invoice.lines.first(),
            position=1,
            description="折让",
            tax_rate=Decimal("0.13"),
            net=net,
            tax=gross - net,
            gross=gross,
        )
        CreditNote.objects.filter(pk=note.pk).update(
            status=CreditNoteStatus.ISSUED, number=f"CN-T-{next(_numbers):06d}", issued_at=timezone.now()
        )
        Invoice.objects.filter(pk=invoice.pk).update(amount_credited=F("amount_credited") + gross)
    return CreditNote.objects.get(pk=note.pk)


def payment(*, customer, amount: Decimal | str, by, method: str = PaymentMethod.BANK_TRANSFER, allocations=(), **extra):
    return payment_record(
        customer=customer,
        amount=Decimal(amount),
        date=extra.pop("date", timezone.localdate()),
        method=method,
        by=by,
        allocations=[(invoice, Decimal(value)) for invoice, value in allocations],
        **extra,
    )

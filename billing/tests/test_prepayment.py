"""Prepayment invoices follow the customer's payment terms (only a customer who pays before shipping
gets one), the credit exposure counts their money once (as a receivable while unpaid, not at all once
paid, never also as an approved order not yet invoiced), and once the goods ship and are delivered the
prepayment invoice is their invoice: drafting marks them invoiced by it and the paid order completes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.invoices.services import invoice_discard, invoice_draft_from_orders, invoice_draft_prepayment, invoice_issue
from billing.models import Invoice
from billing.payments.models import PaymentMethod
from billing.payments.services import payment_record
from billing.tests.factories import company_customer, finance_user
from config.errors import DomainError
from inventory.tests.factories import ProductFactory, approved_order
from orders.credit import customer_committed_not_invoiced, customer_credit_exposure
from orders.models import OrderStatus, PaymentStatus, SalesOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return finance_user()


def _order(customer, quantity: int = 3) -> SalesOrder:
    return approved_order(lines=[(ProductFactory(), quantity)], customer=customer)


def _ship_and_deliver(order: SalesOrder) -> None:
    order.lines.update(quantity_shipped=order.lines.get().quantity)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)


def test_a_customer_on_credit_terms_gets_no_prepayment_invoice(finance):
    order = _order(company_customer(payment_terms_days=30))
    with pytest.raises(DomainError) as refused:
        invoice_draft_prepayment(order=order, by=finance, kind="ordinary")
    assert refused.value.code == "not_prepayment_terms"
    assert "pays on terms of 30 days, not before shipping" in str(refused.value)
    assert not Invoice.objects.exists()


def test_the_invoice_page_explains_why_and_offers_no_prepayment(client_as):
    order = _order(company_customer(payment_terms_days=45))
    client = client_as("finance")
    page = client.get(reverse("billing:invoice_create", args=[order.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "not before shipping" in text and "Create draft invoice" not in text
    assert "Prepayment invoice" not in client.get(order.get_absolute_url()).content.decode()
    prepaid = _order(company_customer(prepayment_required=True))
    assert "Prepayment invoice" in client.get(prepaid.get_absolute_url()).content.decode()
    assert "Create draft invoice" in client.get(reverse("billing:invoice_create", args=[prepaid.pk])).content.decode()


def test_the_prepayment_counts_once_in_the_credit_exposure_and_the_delivered_paid_order_completes(finance):
    customer = company_customer(prepayment_required=True, credit_limit=Decimal("10000.00"))
    order = _order(customer)
    total = order.total
    assert customer_credit_exposure(customer=customer) == total  # approved, not invoiced

    draft = invoice_draft_prepayment(order=order, by=finance, kind="ordinary")
    assert customer_credit_exposure(customer=customer) == total  # a draft is no receivable yet
    prepayment = invoice_issue(invoice=draft, by=finance)
    # Issued and unpaid: a receivable of the order's total, and no longer an order not yet invoiced.
    assert customer_committed_not_invoiced(customer=customer) == 0
    assert customer_credit_exposure(customer=customer) == total

    payment_record(
        customer=customer,
        amount=total,
        date=timezone.localdate(),
        method=PaymentMethod.BANK_TRANSFER,
        by=finance,
        allocations=[(prepayment, total)],
    )
    assert customer_credit_exposure(customer=customer) == 0  # paid in advance: no credit used

    # Another order of the same customer, not prepaid, still counts in full.
    other = _order(customer, quantity=1)
    assert customer_credit_exposure(customer=customer) == other.total

    # The goods ship and arrive: the prepayment invoice is their invoice, nothing is invoiced twice.
    _ship_and_deliver(order)
    outcome = invoice_draft_from_orders(orders=[order], by=finance)
    assert outcome.invoice is None and outcome.covered_by_prepayment == 3
    assert Invoice.objects.filter(lines__order=order).distinct().count() == 1
    order.refresh_from_db()
    assert order.lines.get().quantity_invoiced == 3
    assert (order.status, order.payment_status) == (OrderStatus.COMPLETED, PaymentStatus.PAID)
    assert customer_credit_exposure(customer=customer) == other.total


def test_shipped_goods_wait_for_the_draft_prepayment_invoice_to_be_issued_or_discarded(finance):
    customer = company_customer(prepayment_required=True)
    order = _order(customer)
    draft = invoice_draft_prepayment(order=order, by=finance, kind="ordinary")
    _ship_and_deliver(order)
    with pytest.raises(DomainError) as refused:
        invoice_draft_from_orders(orders=[order], by=finance)
    assert refused.value.code == "prepayment_draft"
    assert order.lines.get().quantity_invoiced == 0
    invoice_discard(invoice=draft, by=finance)
    invoice = invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary").invoice
    assert invoice is not None and not invoice.is_prepayment and invoice.total_gross == order.total

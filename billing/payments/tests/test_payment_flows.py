"""Payments across the apps: a delivered, invoiced order completes when the last payment lands; the
review's credit and overdue rules read billing's real figures; two clerks never over-allocate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Invoice
from billing.payments import services
from billing.payments.models import PaymentAllocation
from billing.payments.tests.factories import invoice_fully, issued_invoice, payment
from config.errors import DomainError
from customers.tests.factories import CustomerFactory
from inventory.tests.factories import WarehouseFactory
from logistics.tests.factories import allocated_order, packed_shipment, ship, stocked_product
from logistics.tracking.services import shipment_confirm_delivery
from orders.credit import customer_credit_exposure
from orders.models import OrderStatus, PaymentStatus, ReviewRule, ReviewSettings, SalesOrder
from orders.review.rules import overdue_invoices
from orders.tests.review_factories import make_order, submit_and_check
from tests.concurrency import run_together


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def shipped_order(*, customer, clerk, quantity: int = 2) -> SalesOrder:
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(product, quantity)], customer=customer)
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)
    return fresh(order)


@pytest.mark.django_db
def test_the_last_payment_completes_a_delivered_fully_invoiced_order(make_user):
    finance, clerk = make_user("finance"), make_user("warehouse")
    customer = CustomerFactory()
    order = shipped_order(customer=customer, clerk=clerk)
    shipment_confirm_delivery(shipment=order.shipments.get(), by=clerk)
    assert fresh(order).status == OrderStatus.DELIVERED
    invoice_fully(order)
    invoice = issued_invoice(order=order, gross=str(order.total))
    payment(customer=customer, amount="100.00", by=finance, allocations=[(invoice, "100.00")])
    assert (fresh(order).status, fresh(order).payment_status) == (OrderStatus.DELIVERED, PaymentStatus.PARTLY_PAID)
    payment(
        customer=customer, amount=str(order.total - Decimal("100.00")), by=finance, allocations=[(invoice, order.total - 100)]
    )
    order = fresh(order)
    assert (order.status, order.payment_status) == (OrderStatus.COMPLETED, PaymentStatus.PAID)
    assert order.events.filter(to_state=OrderStatus.COMPLETED).exists()


@pytest.mark.django_db
def test_an_order_paid_before_it_arrives_completes_on_delivery(make_user):
    finance, clerk = make_user("finance"), make_user("warehouse")
    customer = CustomerFactory()
    order = shipped_order(customer=customer, clerk=clerk)
    invoice_fully(order)
    invoice = issued_invoice(order=order, gross=str(order.total))
    payment(customer=customer, amount=str(order.total), by=finance, allocations=[(invoice, order.total)])
    assert (fresh(order).status, fresh(order).payment_status) == (OrderStatus.SHIPPED, PaymentStatus.PAID)
    shipment_confirm_delivery(shipment=order.shipments.get(), by=clerk)
    assert fresh(order).status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_a_paid_order_not_fully_invoiced_stays_delivered(make_user):
    finance, clerk = make_user("finance"), make_user("warehouse")
    customer = CustomerFactory()
    order = shipped_order(customer=customer, clerk=clerk)
    shipment_confirm_delivery(shipment=order.shipments.get(), by=clerk)
    invoice = issued_invoice(order=order, gross="50.00")  # the lines are not marked invoiced
    payment(customer=customer, amount="50.00", by=finance, allocations=[(invoice, "50.00")])
    assert (fresh(order).status, fresh(order).payment_status) == (OrderStatus.DELIVERED, PaymentStatus.PAID)


@pytest.mark.django_db
def test_the_overdue_provider_feeds_the_review_rule_with_real_due_dates(make_user):
    sales = make_user("sales")
    rules = ReviewSettings.current()
    rules.overdue_days = 30
    rules.save()
    customer = CustomerFactory(credit_limit=Decimal("1000000.00"))
    today = timezone.localdate()
    long_overdue = issued_invoice(customer=customer, gross="1200.50", due_date=today - timedelta(days=31))
    issued_invoice(customer=customer, gross="99.00", due_date=today - timedelta(days=30))  # exactly 30 days: not more
    paid_off = issued_invoice(customer=customer, gross="500.00", due_date=today - timedelta(days=90))
    payment(customer=customer, amount="500.00", by=make_user("finance"), allocations=[(paid_off, "500.00")])
    assert [invoice.number for invoice in overdue_invoices(customer=customer, older_than_days=30)] == [long_overdue.number]
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    [finding] = order.findings.filter(rule=ReviewRule.OVERDUE)
    assert finding.figures == {"days": 30, "invoices": [long_overdue.number], "balance": "1200.50"}
    assert order.status == OrderStatus.IN_REVIEW


@pytest.mark.django_db
def test_credit_exposure_counts_open_receivables_less_advances(make_user):
    finance = make_user("finance")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    invoice = issued_invoice(customer=customer, gross="800.00")
    assert customer_credit_exposure(customer=customer) == Decimal("800.00")
    payment(customer=customer, amount="1000.00", by=finance, allocations=[(invoice, "300.00")])
    # 500 still open on the invoice, 700 paid in advance: the customer is 200 in credit.
    assert customer_credit_exposure(customer=customer) == Decimal("-200.00")
    sales = make_user("sales")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    assert not order.findings.filter(rule=ReviewRule.CREDIT).exists()


@pytest.mark.django_db
def test_open_receivables_push_an_order_over_the_credit_limit(make_user):
    sales = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    issued_invoice(customer=customer, gross="950.00")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)  # one line at list price 100 + tax
    [finding] = order.findings.filter(rule=ReviewRule.CREDIT)
    assert Decimal(finding.figures["exposure"]) == Decimal("950.00") + order.total


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections")
def test_two_clerks_allocating_to_the_same_invoice_at_once_never_exceed_its_open_amount(make_user):
    clerks = [make_user("finance"), make_user("finance")]
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, gross="1000.00")
    payments = [payment(customer=customer, amount="800.00", by=clerk) for clerk in clerks]

    def allocate(clerk, paid):
        def job():
            services.payment_allocate(
                payment=paid, allocations=[(Invoice.objects.get(pk=invoice.pk), Decimal("800.00"))], by=clerk
            )

        return job

    errors = run_together([allocate(clerk, paid) for clerk, paid in zip(clerks, payments, strict=True)])

    assert len(errors) == 1 and isinstance(errors[0], DomainError) and errors[0].code == "over_invoice", errors
    assert fresh(invoice).amount_paid == Decimal("800.00")
    assert list(PaymentAllocation.objects.values_list("amount", flat=True)) == [Decimal("800.00")]
    assert sorted(fresh(p).amount_allocated for p in payments) == [Decimal("0.00"), Decimal("800.00")]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections")
def test_one_payment_allocated_twice_at_once_is_never_used_beyond_its_amount(make_user):
    clerks = [make_user("finance"), make_user("finance")]
    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer, gross="600.00") for _ in range(2)]
    paid = payment(customer=customer, amount="1000.00", by=clerks[0])

    def allocate(clerk, invoice):
        def job():
            services.payment_allocate(payment=fresh(paid), allocations=[(fresh(invoice), Decimal("600.00"))], by=clerk)

        return job

    errors = run_together([allocate(clerk, invoice) for clerk, invoice in zip(clerks, invoices, strict=True)])

    assert len(errors) == 1 and errors[0].code == "over_payment", errors
    assert fresh(paid).amount_allocated == Decimal("600.00")
    assert sum(fresh(invoice).amount_paid for invoice in invoices) == Decimal("600.00")

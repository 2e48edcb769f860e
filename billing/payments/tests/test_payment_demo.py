"""The payments demo: one payment by each method against the open demo invoices, seeded once."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from billing.models import Invoice
from billing.payments.demo import seed
from billing.payments.models import BillState, Payment, PaymentMethod, Refund, RefundState
from billing.payments.tests.factories import issued_invoice
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_demo_pays_invoices_by_each_method_with_a_bill_a_part_payment_and_an_advance(make_user):
    finance = make_user("finance")
    invoices = [issued_invoice(customer=CustomerFactory(), gross="1130.00") for _ in range(5)]
    out = io.StringIO()

    seed(users={"finance": finance}, stdout=out)
    seed(users={"finance": finance}, stdout=out)

    assert sorted(Payment.objects.values_list("method", flat=True)) == sorted(PaymentMethod.values)
    assert Payment.objects.get(method=PaymentMethod.ACCEPTANCE_BILL).bill_state == BillState.HELD
    open_amounts = sorted(Invoice.objects.get(pk=invoice.pk).open_amount for invoice in invoices)
    assert open_amounts == [Decimal("0.00")] * 3 + [Decimal("565.00"), Decimal("678.00")]  # cash paid half, Alipay 40 %
    advance = Payment.objects.get(method=PaymentMethod.WECHAT_PAY)
    assert advance.unallocated == Decimal("400.00")  # 500 paid over the invoice, 100 of it waiting to be refunded
    assert Refund.objects.get().state == RefundState.TO_PAY
    assert "5 payments" in out.getvalue()


def test_without_invoices_the_demo_payments_are_advances(make_user):
    CustomerFactory.create_batch(5)
    seed(users={"finance": make_user("finance")})
    assert Payment.objects.count() == 5
    assert all(payment.amount_allocated == 0 for payment in Payment.objects.all())

"""Demo payments, through the services: one by each method (an acceptance bill among them), an
invoice paid in full, one paid in part, an advance left for later invoices, and a refund to pay.
They pay the open invoices the invoicing demo issued; without any, they stay advances. Running it
again adds nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import Invoice
from billing.payments.models import REFUND_METHODS, Payment, PaymentMethod
from billing.payments.services import BillDetails, payment_record, refund_request
from config.errors import DomainError
from config.money import round_money
from customers.models import Customer

# How each demo payment treats the invoice it meets: the share of the open amount it pays, and any advance on top.
PLAN = [
    (PaymentMethod.BANK_TRANSFER, Decimal("1"), Decimal("0")),  # paid in full
    (PaymentMethod.ALIPAY, Decimal("0.4"), Decimal("0")),  # partly paid
    (PaymentMethod.WECHAT_PAY, Decimal("1"), Decimal("500.00")),  # paid, with an advance left over
    (PaymentMethod.ACCEPTANCE_BILL, Decimal("1"), Decimal("0")),  # paid with a bill
    (PaymentMethod.CASH, Decimal("0.5"), Decimal("0")),  # partly paid in cash
]
PAYERS = {
    PaymentMethod.BANK_TRANSFER: ("6222 0212 3456 7890 123", "对公转账"),
    PaymentMethod.ALIPAY: ("alipay-2088102170000001", "支付宝转账"),
    PaymentMethod.WECHAT_PAY: ("wxpay-4200001234202611300001", "微信支付"),
    PaymentMethod.ACCEPTANCE_BILL: ("", "银行承兑汇票"),
    PaymentMethod.CASH: ("", "现金"),
}


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def seed(*, users, stdout=None) -> None:
    """Payments of each method against the demo's open invoices, and one refund of an advance waiting to be paid."""
    clerk = users.get("finance")
    if clerk is None or Payment.objects.exists():
        return
    today = timezone.localdate()
    invoices = list(Invoice.objects.open().select_related("customer").order_by("issued_at", "pk")[: len(PLAN)])
    customers = list(Customer.objects.order_by("pk")[: len(PLAN)])
    made = []
    for i, (method, share, advance) in enumerate(PLAN):
        invoice = invoices[i] if i < len(invoices) else None
        customer = invoice.customer if invoice else (customers[i] if i < len(customers) else None)
        if customer is None:
            break
        paying = round_money(invoice.open_amount * share) if invoice else Decimal("0")
        amount = paying + advance if invoice else Decimal("2000.00") + Decimal(i * 150)
        account, memo = PAYERS[method]
        bill = None
        if method == PaymentMethod.ACCEPTANCE_BILL:
            bill = BillDetails(
                drawer=customer.name,
                number=f"1301581000001{today:%Y%m%d}{i:06d}",
                maturity_date=today + timedelta(days=180),
                acceptor="中国工商银行上海分行",
            )
        try:
            made.append(
                payment_record(
                    customer=customer,
                    amount=amount,
                    date=today - timedelta(days=len(PLAN) - i),
                    method=method,
                    by=clerk,
                    payer_name=customer.name,
                    payer_account=account,
                    reference=f"{memo} DEMO-{i + 1:03d}",
                    bill=bill,
                    allocations=[(invoice, paying)] if invoice and paying > 0 else (),
                )
            )
        except DomainError as error:
            _say(stdout, f"Payments demo: a {method} payment was not recorded ({error}).")
    with_advance = next((p for p in made if p.unallocated >= Decimal("100.00")), None)
    if with_advance is not None:
        refund_request(
            payment=with_advance,
            amount=Decimal("100.00"),
            method=REFUND_METHODS[0][0],
            payee_name=with_advance.customer.name,
            payee_account=with_advance.payer_account,
            reason="多付款退回",
            by=clerk,
        )
    _say(stdout, f"Payments demo: {len(made)} payments ({', '.join(p.number for p in made)}).")

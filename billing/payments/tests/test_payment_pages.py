"""The payment and refund pages as finance, managers and sales use them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.payments.handlers import refresh_payment_status
from billing.payments.models import BillState, Payment, PaymentAllocation, Refund, RefundState
from billing.payments.services import BillDetails
from billing.payments.tests.factories import bare_order, issued_invoice, payment
from customers.tests.factories import CustomerFactory
from orders.models import PaymentStatus
from tests.submissions import token_in, with_token

pytestmark = pytest.mark.django_db

LIST = reverse("billing:payment_list")
NEW = reverse("billing:payment_create")


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def record_data(who, **extra) -> dict:
    return with_token(
        {
            "customer": who.code,
            "date": timezone.localdate().isoformat(),
            "amount": "1500.00",
            "method": "bank_transfer",
            "payer_name": who.name,
            "payer_account": "6222 0000 1111",
            "reference": "HX20261130001",
            "allocate_oldest": "on",
            **extra,
        }
    )


def test_finance_records_a_payment_that_pays_the_oldest_invoices_first(client_as, make_user):
    client = client_as("finance")
    customer = CustomerFactory()
    order = bare_order(customer=customer, by=make_user("sales"))
    older = issued_invoice(order=order, gross="1000.00", due_date=timezone.localdate() + timedelta(days=5))
    newer = issued_invoice(customer=customer, gross="800.00", due_date=timezone.localdate() + timedelta(days=20))
    assert client.get(NEW, {"customer": customer.code}).status_code == 200
    response = client.post(NEW, record_data(customer))
    payment_row = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == payment_row.get_absolute_url()
    assert (fresh(older).amount_paid, fresh(newer).amount_paid) == (Decimal("1000.00"), Decimal("500.00"))
    assert fresh(order).payment_status == PaymentStatus.PAID
    page = client.get(payment_row.get_absolute_url())
    assert older.number in page.content.decode() and page.status_code == 200


def test_a_double_click_records_one_payment(client_as):
    client = client_as("finance")
    customer = CustomerFactory()
    data = record_data(customer)
    first, second = client.post(NEW, data), client.post(NEW, data)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "-3"), ("amount", "12.345"), ("customer", "NO-SUCH"), ("date", "2999-01-01"), ("method", "gold")],
)
def test_bad_input_is_a_form_error_and_records_nothing(client_as, field, value):
    client = client_as("finance")
    response = client.post(NEW, record_data(CustomerFactory(), **{field: value}))
    assert response.status_code == 422
    assert response.context["form"].errors.get(field)
    assert not Payment.objects.exists()


def test_an_acceptance_bill_without_its_number_is_refused_on_the_form(client_as):
    client = client_as("finance")
    response = client.post(NEW, record_data(CustomerFactory(), method="acceptance_bill", bill_drawer="某公司"))
    assert response.status_code == 422 and response.context["form"].errors.get("bill_number")


def test_allocate_from_the_payment_page_then_undo_with_confirmation(client_as, make_user):
    client = client_as("finance")
    customer = CustomerFactory()
    order = bare_order(customer=customer, by=make_user("sales"))
    invoice = issued_invoice(order=order, gross="300.00")
    paid = payment(customer=customer, amount="500.00", by=client.user)
    page = client.get(paid.get_absolute_url())
    assert f'name="invoice_{invoice.pk}"' in page.content.decode()
    response = client.post(
        reverse("billing:payment_allocate", args=[paid.pk]),
        {f"invoice_{invoice.pk}": "300.00", "submission_token": token_in(page)},
    )
    assert response.status_code == 302
    assert fresh(invoice).amount_paid == Decimal("300.00") and fresh(order).payment_status == PaymentStatus.PAID
    allocation = PaymentAllocation.objects.get()
    undo = reverse("billing:allocation_undo", args=[allocation.pk])
    confirm = client.get(undo)
    assert confirm.status_code == 200 and "Undo the allocation" in confirm.content.decode()
    assert fresh(allocation).reversed_at is None  # the confirmation page changes nothing
    assert client.post(undo).status_code == 302
    assert fresh(invoice).amount_paid == 0 and fresh(order).payment_status == PaymentStatus.UNPAID
    assert fresh(paid).unallocated == Decimal("500.00")


def test_allocating_more_than_an_invoice_has_open_is_a_form_error(client_as):
    client = client_as("finance")
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, gross="100.00")
    paid = payment(customer=customer, amount="500.00", by=client.user)
    response = client.post(reverse("billing:payment_allocate", args=[paid.pk]), with_token({f"invoice_{invoice.pk}": "100.01"}))
    assert response.status_code == 422
    assert fresh(invoice).amount_paid == 0


def test_list_filters_searches_and_exports(client_as):
    client = client_as("finance")
    customer = CustomerFactory(code="C-PAY-1")
    invoice = issued_invoice(customer=customer, gross="100.00")
    cash = payment(customer=customer, amount="100.00", by=client.user, method="cash", allocations=[(invoice, "100.00")])
    alipay = payment(customer=customer, amount="250.00", by=client.user, method="alipay", reference="ALI-778899")
    assert [p.pk for p in client.get(LIST, {"method": "cash"}).context["page_obj"]] == [cash.pk]
    assert [p.pk for p in client.get(LIST, {"unallocated": "on"}).context["page_obj"]] == [alipay.pk]
    assert [p.pk for p in client.get(LIST, {"q": "778899"}).context["page_obj"]] == [alipay.pk]
    assert {p.pk for p in client.get(LIST, {"customer": "c-pay-1"}).context["page_obj"]} == {cash.pk, alipay.pk}
    empty = client.get(LIST, {"q": "nothing-like-this"})
    assert "No payment matches these filters." in empty.content.decode()
    export = client.get(reverse("billing:payment_export"), {"format": "csv", "method": "alipay"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == alipay.number and Decimal(rows[1][10]) == Decimal("250.00")
    assert client.get(reverse("billing:payment_export"), {"format": "pdf"}).status_code == 400


def test_sales_read_only_their_own_customers_payments(client_as, make_user):
    client = client_as("sales")
    mine = CustomerFactory(salesperson=client.user)
    theirs = CustomerFactory(salesperson=make_user("sales"))
    finance = make_user("finance")
    own = payment(customer=mine, amount="10.00", by=finance)
    other = payment(customer=theirs, amount="20.00", by=finance)
    assert [p.pk for p in client.get(LIST).context["page_obj"]] == [own.pk]
    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(NEW).status_code == 403
    assert client.post(reverse("billing:payment_void", args=[own.pk]), {"note": "x"}).status_code == 403


def test_managers_read_everything_and_change_nothing(client_as, make_user):
    client = client_as("manager")
    paid = payment(customer=CustomerFactory(), amount="10.00", by=make_user("finance"))
    assert client.get(LIST).status_code == 200 and client.get(paid.get_absolute_url()).status_code == 200
    assert client.get(NEW).status_code == 403
    assert client.post(reverse("billing:payment_allocate", args=[paid.pk]), with_token({})).status_code == 403


def test_warehouse_staff_do_not_see_payments(client_as):
    client = client_as("warehouse")
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("billing:refund_list")).status_code == 403


def test_void_asks_for_a_reason_then_voids(client_as):
    client = client_as("finance")
    paid = payment(customer=CustomerFactory(), amount="10.00", by=client.user)
    url = reverse("billing:payment_void", args=[paid.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"note": ""}).status_code == 422 and fresh(paid).state == "recorded"
    assert client.post(url, {"note": "Entered twice"}).status_code == 302 and fresh(paid).state == "void"


def test_a_bill_is_discounted_from_its_page(client_as):
    client = client_as("finance")
    today = timezone.localdate()
    bill = payment(
        customer=CustomerFactory(),
        amount="20000.00",
        by=client.user,
        method="acceptance_bill",
        bill=BillDetails(drawer="某公司", number="BILL-PAGE-1", maturity_date=today + timedelta(days=60)),
    )
    url = reverse("billing:bill_action", args=[bill.pk, "discount"])
    assert client.post(url, {"discount-fee": "-1", "discount-on": today.isoformat()}).status_code == 422
    assert client.post(url, {"discount-fee": "180.00", "discount-on": today.isoformat()}).status_code == 302
    assert fresh(bill).bill_state == BillState.DISCOUNTED
    assert client.post(reverse("billing:bill_action", args=[bill.pk, "steal"]), {}).status_code == 404


def test_refund_of_an_advance_waits_in_the_queue_until_paid(client_as):
    client = client_as("finance")
    customer = CustomerFactory()
    advance = payment(customer=customer, amount="300.00", by=client.user)
    form = client.get(reverse("billing:refund_create"), {"payment": advance.pk})
    assert form.status_code == 200
    too_much = client.post(
        reverse("billing:refund_create"),
        with_token({"payment": advance.pk, "source": f"payment:{advance.pk}", "amount": "300.01", "method": "bank_transfer"}),
    )
    assert too_much.status_code == 422 and not Refund.objects.exists()
    response = client.post(
        reverse("billing:refund_create"),
        with_token({"payment": advance.pk, "source": f"payment:{advance.pk}", "amount": "120.00", "method": "alipay"}),
    )
    refund = Refund.objects.get()
    assert response.status_code == 302 and refund.state == RefundState.TO_PAY
    assert fresh(advance).unallocated == Decimal("180.00")
    home = client.get(reverse("home")).content.decode()
    assert "Refunds to pay" in home and refund.number in home
    pay = reverse("billing:refund_pay", args=[refund.pk])
    assert client.post(pay, {"reference": "", "paid_on": timezone.localdate().isoformat(), "method": "alipay"}).status_code == 422
    assert (
        client.post(pay, {"reference": "ALI-REF-1", "paid_on": timezone.localdate().isoformat(), "method": "alipay"}).status_code
        == 302
    )
    refund = fresh(refund)
    assert refund.state == RefundState.PAID and refund.reference == "ALI-REF-1"
    assert [r.pk for r in client.get(reverse("billing:refund_list"), {"state": "to_pay"}).context["page_obj"]] == []


def test_a_cancelled_refund_gives_the_credit_back(client_as):
    client = client_as("finance")
    advance = payment(customer=CustomerFactory(), amount="300.00", by=client.user)
    client.post(
        reverse("billing:refund_create"),
        with_token({"payment": advance.pk, "source": f"payment:{advance.pk}", "amount": "300.00", "method": "cash"}),
    )
    refund = Refund.objects.get()
    url = reverse("billing:refund_cancel", args=[refund.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"note": "Customer keeps it as an advance"}).status_code == 302
    assert fresh(refund).state == RefundState.CANCELLED and fresh(advance).unallocated == Decimal("300.00")


def test_customer_page_shows_balance_credit_used_overdue_and_last_payment(client_as):
    client = client_as("finance")
    customer = CustomerFactory(credit_limit=Decimal("5000.00"))
    overdue = issued_invoice(customer=customer, gross="1000.00", due_date=timezone.localdate() - timedelta(days=3))
    payment(customer=customer, amount="400.00", by=client.user, allocations=[(overdue, "400.00")])
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "Balance: 600.00" in body
    assert "Credit used: 600.00 of 5,000.00" in body
    assert "Overdue: 600.00 (1 invoices)" in body
    assert f"Last payment: {timezone.localdate().isoformat()}, 400.00" in body


def test_order_list_filters_by_payment_status_and_shows_it(client_as, make_user):
    client = client_as("finance")
    customer = CustomerFactory()
    seller = make_user("sales")
    paid_order, open_order = bare_order(customer=customer, by=seller), bare_order(customer=customer, by=seller)
    paid_invoice = issued_invoice(order=paid_order, gross="100.00")
    refresh_payment_status({"id": issued_invoice(order=open_order, gross="100.00").pk})  # as the outbox does after issue
    payment(customer=customer, amount="100.00", by=client.user, allocations=[(paid_invoice, "100.00")])
    response = client.get(reverse("orders:list"), {"payment_status": "paid"})
    assert [o.pk for o in response.context["page_obj"]] == [paid_order.pk]
    assert "payment-paid" in response.content.decode()
    assert [o.pk for o in client.get(reverse("orders:list"), {"payment_status": "unpaid"}).context["page_obj"]] == [open_order.pk]
    not_invoiced = bare_order(customer=customer, by=seller)
    assert [o.pk for o in client.get(reverse("orders:list"), {"payment_status": "none"}).context["page_obj"]] == [not_invoiced.pk]
    detail = client.get(paid_order.get_absolute_url()).content.decode()
    assert 'data-payment-status="paid"' in detail


def test_pages_speak_chinese(client_as):
    client = client_as("finance")
    payment(customer=CustomerFactory(), amount="10.00", by=client.user, method="wechat_pay")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(LIST).content.decode()
    assert "收款" in body and "微信支付" in body and "未核销" in body

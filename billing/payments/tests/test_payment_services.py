"""Recording, allocating, undoing and voiding payments; write-offs; the orders' payment status and completion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Invoice
from billing.payments import services
from billing.payments.handlers import refresh_payment_status
from billing.payments.models import BillState, Payment, PaymentAllocation, PaymentEvent, PaymentMethod, PaymentRecordState
from billing.payments.services import BillDetails
from billing.payments.tasks import overdue_orders_refresh
from billing.payments.tests.factories import bare_order, issued_credit_note, issued_invoice, payment
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.outbox import OutboxEvent
from customers.tests.factories import CustomerFactory
from orders.models import OrderEvent, PaymentStatus, SalesOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(make_user):
    return make_user("finance")


@pytest.fixture
def customer(db):
    return CustomerFactory()


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_a_payment_split_over_three_invoices_sums_exactly(finance, customer):
    invoices = [issued_invoice(customer=customer, gross=gross) for gross in ("333.33", "333.33", "333.34")]
    paid = payment(
        customer=customer, amount="1000.00", by=finance, allocations=zip(invoices, ["333.33", "333.33", "333.34"], strict=True)
    )
    assert [fresh(invoice).amount_paid for invoice in invoices] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert all(fresh(invoice).open_amount == 0 for invoice in invoices)
    paid = fresh(paid)
    assert paid.amount_allocated == Decimal("1000.00") and paid.unallocated == Decimal("0.00")
    assert sum(paid.allocations.values_list("amount", flat=True), Decimal(0)) == paid.amount


def test_an_invoice_may_be_paid_by_several_payments(finance, customer):
    invoice = issued_invoice(customer=customer, gross="500.00")
    payment(customer=customer, amount="200.00", by=finance, allocations=[(invoice, "200.00")])
    payment(customer=customer, amount="300.00", by=finance, allocations=[(invoice, "300.00")])
    assert fresh(invoice).amount_paid == Decimal("500.00")


def test_the_unallocated_rest_is_an_advance_a_later_invoice_uses(finance, customer):
    first = issued_invoice(customer=customer, gross="700.00")
    paid = payment(customer=customer, amount="1000.00", by=finance, allocations=[(first, "700.00")])
    assert fresh(paid).unallocated == Decimal("300.00")
    later = issued_invoice(customer=customer, gross="250.00")
    services.payment_allocate(payment=paid, allocations=[(later, Decimal("250.00"))], by=finance)
    assert fresh(later).open_amount == 0
    assert fresh(paid).unallocated == Decimal("50.00")


def test_an_allocation_never_exceeds_the_invoice_open_amount(finance, customer):
    invoice = issued_invoice(customer=customer, gross="100.00")
    paid = payment(customer=customer, amount="500.00", by=finance)
    with pytest.raises(DomainError) as refused:
        services.payment_allocate(payment=paid, allocations=[(invoice, Decimal("100.01"))], by=finance)
    assert refused.value.code == "over_invoice"
    assert fresh(invoice).amount_paid == 0 and fresh(paid).amount_allocated == 0


def test_an_allocation_never_exceeds_the_payment_rest_and_a_refusal_writes_nothing(finance, customer):
    invoices = [issued_invoice(customer=customer, gross="100.00") for _ in range(2)]
    paid = payment(customer=customer, amount="150.00", by=finance)
    with pytest.raises(DomainError) as refused:
        services.payment_allocate(
            payment=paid, allocations=[(invoices[0], Decimal("100")), (invoices[1], Decimal("50.01"))], by=finance
        )
    assert refused.value.code == "over_payment"
    assert not PaymentAllocation.objects.exists()
    assert [fresh(invoice).amount_paid for invoice in invoices] == [0, 0]


def test_an_invoice_of_another_customer_cannot_be_paid(finance, customer):
    other = issued_invoice(gross="100.00")
    paid = payment(customer=customer, amount="100.00", by=finance)
    with pytest.raises(DomainError) as refused:
        services.payment_allocate(payment=paid, allocations=[(other, Decimal("100.00"))], by=finance)
    assert refused.value.code == "other_customer"


@pytest.mark.parametrize("amount", ["0", "-5", "10.001", "abc", "1e400"])
def test_bad_amounts_are_refused_on_the_amount_field(finance, customer, amount):
    with pytest.raises(DomainError) as refused:
        services.payment_record(customer=customer, amount=amount, date=timezone.localdate(), method="cash", by=finance)
    assert refused.value.field == "amount"
    assert not Payment.objects.exists()


def test_the_database_refuses_more_used_than_received(finance, customer):
    paid = payment(customer=customer, amount="100.00", by=finance)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=paid.pk).update(amount_allocated=Decimal("60.00"), amount_refunded=Decimal("40.01"))


def test_undo_restores_the_amounts_and_keeps_the_history(finance, customer):
    invoice = issued_invoice(customer=customer, gross="400.00")
    paid = payment(customer=customer, amount="400.00", by=finance, allocations=[(invoice, "400.00")])
    allocation = paid.allocations.get()
    services.allocation_undo(allocation=allocation, by=finance)
    assert fresh(invoice).amount_paid == 0 and fresh(invoice).open_amount == Decimal("400.00")
    assert fresh(paid).unallocated == Decimal("400.00")
    allocation = fresh(allocation)
    assert allocation.reversed_at is not None and allocation.reversed_by == finance
    assert PaymentEvent.objects.filter(payment=paid, kind=PaymentEvent.Kind.ALLOCATION_UNDONE).exists()
    with pytest.raises(DomainError) as twice:
        services.allocation_undo(allocation=allocation, by=finance)
    assert twice.value.code == "already_undone"


def test_voiding_a_payment_undoes_its_allocations_first(finance, customer):
    invoice = issued_invoice(customer=customer, gross="400.00")
    paid = payment(customer=customer, amount="500.00", by=finance, allocations=[(invoice, "400.00")])
    voided = services.payment_void(payment=paid, by=finance, note="Entered twice")
    assert voided.state == PaymentRecordState.VOID and voided.voided_at is not None
    assert fresh(invoice).amount_paid == 0
    assert voided.amount_allocated == 0
    assert PaymentAllocation.objects.get().reversed_at is not None
    with pytest.raises(DomainError):
        services.payment_allocate(payment=voided, allocations=[(invoice, Decimal("1.00"))], by=finance)


def test_sales_may_not_record_or_allocate(make_user, customer):
    seller = make_user("sales")
    with pytest.raises(PermissionRefused):
        services.payment_record(customer=customer, amount=Decimal("1"), date=timezone.localdate(), method="cash", by=seller)
    manager = make_user("manager")
    with pytest.raises(PermissionRefused):
        services.payment_record(customer=customer, amount=Decimal("1"), date=timezone.localdate(), method="cash", by=manager)


def test_a_payment_from_the_future_is_refused(finance, customer):
    with pytest.raises(DomainError) as refused:
        services.payment_record(
            customer=customer, amount=Decimal("1"), date=timezone.localdate() + timedelta(days=1), method="cash", by=finance
        )
    assert refused.value.field == "date"


# --- write-offs ----------------------------------------------------------------------------------------


def test_a_short_payment_is_settled_by_a_write_off_within_the_limit(finance, customer, settings):
    settings.PAYMENT_WRITE_OFF_LIMIT = Decimal("1.00")
    invoice = issued_invoice(customer=customer, gross="1000.00")
    payment(customer=customer, amount="999.40", by=finance, allocations=[(invoice, "999.40")])
    with pytest.raises(DomainError) as refused:
        services.invoice_write_off(invoice=invoice, amount=Decimal("1.01"), reason="rounding", by=finance)
    assert refused.value.code == "over_write_off_limit"
    write_off = services.invoice_write_off(invoice=invoice, amount=Decimal("0.60"), reason="bank_fee", by=finance)
    assert fresh(invoice).open_amount == 0
    services.write_off_undo(write_off=write_off, by=finance)
    assert fresh(invoice).open_amount == Decimal("0.60")


def test_a_small_overpayment_rest_is_written_off_on_the_payment(finance, customer):
    invoice = issued_invoice(customer=customer, gross="100.00")
    paid = payment(customer=customer, amount="100.30", by=finance, allocations=[(invoice, "100.00")])
    services.payment_write_off(payment=paid, amount=Decimal("0.30"), reason="rounding", by=finance)
    assert fresh(paid).unallocated == 0


# --- acceptance bills ------------------------------------------------------------------------------------


def test_an_acceptance_bill_needs_its_details_and_is_received_once(finance, customer):
    today = timezone.localdate()
    with pytest.raises(DomainError) as refused:
        payment(customer=customer, amount="50000.00", by=finance, method=PaymentMethod.ACCEPTANCE_BILL)
    assert refused.value.code == "bill_details"
    bill = BillDetails(
        drawer="上海某某实业有限公司", number="130158100000120261130000001", maturity_date=today + timedelta(days=180)
    )
    received = payment(customer=customer, amount="50000.00", by=finance, method=PaymentMethod.ACCEPTANCE_BILL, bill=bill)
    assert received.bill_state == BillState.HELD
    with pytest.raises(DomainError) as again:
        payment(customer=customer, amount="50000.00", by=finance, method=PaymentMethod.ACCEPTANCE_BILL, bill=bill)
    assert again.value.code == "bill_already_received"


def test_a_bill_is_endorsed_discounted_or_collected_once(finance, customer):
    today = timezone.localdate()

    def bill(number, maturity):
        details = BillDetails(drawer="某公司", number=number, maturity_date=maturity)
        return payment(customer=customer, amount="10000.00", by=finance, method=PaymentMethod.ACCEPTANCE_BILL, bill=details)

    endorsed = services.bill_endorse(payment=bill("B1", today + timedelta(days=90)), endorsee="供应商甲", on=today, by=finance)
    assert endorsed.bill_state == BillState.ENDORSED and endorsed.bill_endorsee == "供应商甲"
    with pytest.raises(DomainError):
        services.bill_collect(payment=endorsed, on=today + timedelta(days=90), by=finance)
    discounted = services.bill_discount(
        payment=bill("B2", today + timedelta(days=90)), fee=Decimal("125.50"), on=today, by=finance
    )
    assert discounted.bill_state == BillState.DISCOUNTED and discounted.bill_discount_fee == Decimal("125.50")
    immature = bill("B3", today + timedelta(days=1))
    with pytest.raises(DomainError) as early:
        services.bill_collect(payment=immature, on=today, by=finance)
    assert early.value.code == "not_mature"
    collected = services.bill_collect(payment=bill("B4", today), on=today, by=finance)
    assert collected.bill_state == BillState.COLLECTED
    with pytest.raises(DomainError):
        services.payment_void(payment=endorsed, by=finance)


# --- source, outbox --------------------------------------------------------------------------------------


def test_one_source_records_one_payment(finance, customer):
    line = CustomerFactory()  # any row stands for a bank statement line here
    payment(customer=customer, amount="10.00", by=finance, source=line)
    with pytest.raises(DomainError) as refused:
        payment(customer=customer, amount="10.00", by=finance, source=line)
    assert refused.value.code == "source_already_recorded"


def test_a_received_payment_is_published_with_its_invoice_numbers(finance, customer, settings):
    settings.OUTBOX_HANDLERS = {**settings.OUTBOX_HANDLERS, services.PAYMENT_RECEIVED: ["config.tasks.worker_heartbeat"]}
    invoice = issued_invoice(customer=customer, gross="88.00")
    paid = payment(customer=customer, amount="100.00", by=finance, allocations=[(invoice, "88.00")])
    event = OutboxEvent.objects.get(topic=services.PAYMENT_RECEIVED)
    assert event.payload == {
        "id": paid.pk,
        "number": paid.number,
        "customer": customer.pk,
        "amount": "100.00",
        "currency": paid.currency,
        "method": "bank_transfer",
        "invoices": [invoice.number],
    }


# --- the orders' payment status --------------------------------------------------------------------------


def test_order_payment_status_follows_allocations_and_their_undoing(finance, customer, make_user):
    order = bare_order(customer=customer, by=make_user("sales"))
    first = issued_invoice(order=order, gross="600.00")
    second = issued_invoice(order=order, gross="400.00")
    paid = payment(customer=customer, amount="600.00", by=finance, allocations=[(first, "600.00")])
    assert fresh(order).payment_status == PaymentStatus.PARTLY_PAID
    payment(customer=customer, amount="400.00", by=finance, allocations=[(second, "400.00")])
    assert fresh(order).payment_status == PaymentStatus.PAID
    services.allocation_undo(allocation=paid.allocations.get(), by=finance)
    assert fresh(order).payment_status == PaymentStatus.PARTLY_PAID
    changes = list(OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAYMENT).values_list("params", flat=True))
    assert [(c["from"], c["to"]) for c in changes] == [("", "partly_paid"), ("partly_paid", "paid"), ("paid", "partly_paid")]


def test_an_order_with_an_open_invoice_past_due_is_overdue(finance, customer, make_user):
    order = bare_order(customer=customer, by=make_user("sales"))
    invoice = issued_invoice(order=order, gross="100.00", due_date=timezone.localdate() - timedelta(days=1))
    payment(customer=customer, amount="40.00", by=finance, allocations=[(invoice, "40.00")])
    assert fresh(order).payment_status == PaymentStatus.OVERDUE
    on_time = bare_order(customer=customer, by=make_user("sales"))
    due_today = issued_invoice(order=on_time, gross="100.00", due_date=timezone.localdate())
    payment(customer=customer, amount="40.00", by=finance, allocations=[(due_today, "40.00")])
    assert fresh(on_time).payment_status == PaymentStatus.PARTLY_PAID
    assert overdue_orders_refresh(today=timezone.localdate() + timedelta(days=1)) == 1
    assert fresh(on_time).payment_status == PaymentStatus.OVERDUE


def test_the_outbox_handler_marks_a_freshly_issued_invoice_order_unpaid(customer, make_user):
    order = bare_order(customer=customer, by=make_user("sales"))
    invoice = issued_invoice(order=order, gross="100.00")
    refresh_payment_status({"id": invoice.pk})
    assert fresh(order).payment_status == PaymentStatus.UNPAID


def test_invoice_totals_stay_consistent_with_allocations(finance, customer):
    invoices = [issued_invoice(customer=customer, gross="99.99") for _ in range(3)]
    paid = payment(customer=customer, amount="299.97", by=finance, allocations=[(i, "99.99") for i in invoices])
    services.allocation_undo(allocation=paid.allocations.order_by("pk")[1], by=finance)
    for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices]):
        active = sum(invoice.payment_allocations.filter(reversed_at__isnull=True).values_list("amount", flat=True), Decimal(0))
        assert invoice.amount_paid == active
    assert fresh(paid).amount_allocated == Decimal("199.98")


def test_the_system_may_record_for_a_bank_import(customer):
    paid = services.payment_record(
        customer=customer, amount=Decimal("12.34"), date=timezone.localdate(), method="bank_transfer", by=Actor.system("import")
    )
    assert paid.created_by is None and SalesOrder.objects.count() == 0


# --- refunds -------------------------------------------------------------------------------------------


def test_a_refund_on_a_credit_note_pays_back_only_what_was_paid_beyond_the_invoice(finance, customer, make_user):
    order = bare_order(customer=customer, by=make_user("sales"))
    invoice = issued_invoice(order=order, gross="1000.00")
    payment(customer=customer, amount="1000.00", by=finance, allocations=[(invoice, "1000.00")])
    note = issued_credit_note(invoice=invoice, gross="300.00")
    with pytest.raises(DomainError) as refused:
        services.refund_request(credit_note=note, amount=Decimal("300.01"), method="bank_transfer", by=finance)
    assert refused.value.code == "over_credit"
    refund = services.refund_request(credit_note=note, amount=Decimal("300.00"), method="bank_transfer", by=finance)
    assert fresh(note).amount_refunded == Decimal("300.00")
    assert fresh(order).payment_status == PaymentStatus.REFUNDED
    with pytest.raises(DomainError):  # nothing is left to pay back
        services.refund_request(credit_note=note, amount=Decimal("0.01"), method="cash", by=finance)
    services.refund_cancel(refund=refund, by=finance)
    assert fresh(note).amount_refunded == 0 and fresh(order).payment_status == PaymentStatus.PAID


def test_a_credit_note_on_an_unpaid_invoice_has_nothing_to_refund(finance, customer):
    invoice = issued_invoice(customer=customer, gross="1000.00")
    payment(customer=customer, amount="500.00", by=finance, allocations=[(invoice, "500.00")])
    note = issued_credit_note(invoice=invoice, gross="300.00")  # 200 is still owed
    with pytest.raises(DomainError) as refused:
        services.refund_request(credit_note=note, amount=Decimal("0.01"), method="cash", by=finance)
    assert refused.value.code == "over_credit"


def test_a_refunded_advance_cannot_be_allocated_and_the_payment_cannot_be_voided(finance, customer):
    advance = payment(customer=customer, amount="300.00", by=finance)
    services.refund_request(payment=advance, amount=Decimal("300.00"), method="alipay", by=finance)
    invoice = issued_invoice(customer=customer, gross="100.00")
    with pytest.raises(DomainError) as refused:
        services.payment_allocate(payment=advance, allocations=[(invoice, Decimal("1.00"))], by=finance)
    assert refused.value.code == "over_payment"
    with pytest.raises(DomainError):
        services.payment_void(payment=advance, by=finance)


def test_paying_a_refund_needs_the_finance_permission_and_a_reference(finance, customer, make_user):
    advance = payment(customer=customer, amount="300.00", by=finance)
    refund = services.refund_request(payment=advance, amount=Decimal("50.00"), method="wechat_pay", by=finance)
    with pytest.raises(PermissionRefused):
        services.refund_pay(refund=refund, reference="WX-1", paid_on=timezone.localdate(), by=make_user("manager"))
    with pytest.raises(DomainError):
        services.refund_pay(refund=refund, reference=" ", paid_on=timezone.localdate(), by=finance)
    paid = services.refund_pay(refund=refund, reference="WX-1", paid_on=timezone.localdate(), by=finance)
    assert paid.state == "paid" and paid.reference == "WX-1"
    with pytest.raises(DomainError):
        services.refund_cancel(refund=paid, by=finance)


def test_a_written_off_shortfall_is_not_money_to_refund(finance, customer):
    invoice = issued_invoice(customer=customer, gross="1130.00")
    payment(customer=customer, amount="1129.50", by=finance, allocations=[(invoice, "1129.50")])
    services.invoice_write_off(invoice=invoice, amount=Decimal("0.50"), reason="rounding", by=finance)
    note = issued_credit_note(invoice=invoice, gross="113.00")  # the invoice now asks 1017.00; 1129.50 came
    with pytest.raises(DomainError) as refused:
        services.refund_request(credit_note=note, amount=Decimal("113.00"), method="bank_transfer", by=finance)
    assert refused.value.code == "over_credit" and refused.value.params == {"credit": Decimal("112.50")}
    services.refund_request(credit_note=note, amount=Decimal("112.50"), method="bank_transfer", by=finance)
    assert fresh(note).amount_refunded == Decimal("112.50")


def test_money_a_credit_note_refunds_cannot_be_taken_off_the_invoice_until_the_refund_is_cancelled(finance, customer):
    invoice = issued_invoice(customer=customer, gross="1000.00")
    paid = payment(customer=customer, amount="1000.00", by=finance, allocations=[(invoice, "1000.00")])
    note = issued_credit_note(invoice=invoice, gross="300.00")
    refund = services.refund_request(credit_note=note, amount=Decimal("300.00"), method="bank_transfer", by=finance)
    # Undoing the allocation would make the 1000.00 an advance and leave the refund paid out of nothing.
    with pytest.raises(DomainError) as refused:
        services.allocation_undo(allocation=paid.allocations.get(), by=finance)
    assert refused.value.code == "refunded"
    with pytest.raises(DomainError):
        services.payment_void(payment=paid, by=finance)
    assert fresh(invoice).amount_paid == Decimal("1000.00") and fresh(paid).state == "recorded"
    services.refund_cancel(refund=refund, by=finance)
    services.allocation_undo(allocation=paid.allocations.get(), by=finance)
    assert fresh(invoice).amount_paid == 0 and fresh(paid).unallocated == Decimal("1000.00")


def test_an_undo_that_leaves_enough_received_for_the_refund_is_allowed(finance, customer):
    invoice = issued_invoice(customer=customer, gross="1000.00")
    large = payment(customer=customer, amount="700.00", by=finance, allocations=[(invoice, "700.00")])
    small = payment(customer=customer, amount="300.00", by=finance, allocations=[(invoice, "300.00")])
    note = issued_credit_note(invoice=invoice, gross="500.00")  # asks 500.00 now; 1000.00 came
    services.refund_request(credit_note=note, amount=Decimal("100.00"), method="cash", by=finance)
    with pytest.raises(DomainError):  # 300.00 left received, 500.00 asked: the refund would be paid out of nothing
        services.allocation_undo(allocation=large.allocations.get(), by=finance)
    services.allocation_undo(allocation=small.allocations.get(), by=finance)  # 700.00 received: 200.00 beyond, 100.00 refunded
    assert fresh(invoice).amount_paid == Decimal("700.00") and fresh(small).unallocated == Decimal("300.00")
    assert services.credit_note_refundable(fresh(note), fresh(invoice)) == Decimal("100.00")

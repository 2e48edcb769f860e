"""Dunning: the daily run reminds each overdue invoice once per level, in the customer's language,
on the customer's timeline; the final level puts the customer on credit hold (new orders go to
review) and a payment releases it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.dunning.models import CreditHold, DunningLevel, PaymentReminder, PaymentReminderLine
from billing.dunning.services import credit_hold_release, dunning_run
from billing.dunning.tasks import run_dunning
from billing.payments.models import PaymentMethod
from billing.payments.services import payment_allocate, payment_record
from billing.tests.receivables_factories import issued_invoice, pay
from config.outbox import outbox_dispatch, outbox_publish
from customers.models import CustomerEvent
from customers.tests.factories import CustomerFactory
from orders.models import OrderStatus, ReviewFinding, ReviewRule, ReviewSettings
from orders.tests.review_factories import make_order, submit_and_check

pytestmark = pytest.mark.django_db

DUE = date(2026, 3, 1)


@pytest.fixture
def customer():
    return CustomerFactory(name="丙 Gamma Electronics", email="ap@gamma.example", language="zh-hans")


@pytest.fixture
def invoice(customer):
    return issued_invoice(customer=customer, gross="11300.00", issued_on=DUE - timedelta(days=30), due_date=DUE)


def levels():
    return {level.kind: level for level in DunningLevel.objects.all()}


def test_the_installation_starts_with_friendly_firm_and_final_levels():
    assert [(lv.kind, lv.days_after_due, lv.credit_hold) for lv in DunningLevel.objects.order_by("days_after_due")] == [
        ("friendly", 7, False),
        ("firm", 30, False),
        ("final", 60, True),
    ]


def test_nothing_is_reminded_before_the_first_level(invoice):
    assert dunning_run(on=DUE + timedelta(days=6)).reminders == []
    assert not PaymentReminder.objects.exists()


def test_each_level_reminds_once_and_a_second_run_the_same_day_sends_nothing(
    customer, invoice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = dunning_run(on=DUE + timedelta(days=7))
    [reminder] = first.reminders
    assert (reminder.kind, reminder.customer, reminder.amount_overdue, reminder.invoice_count) == (
        "friendly",
        customer,
        Decimal("11300.00"),
        1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert dunning_run(on=DUE + timedelta(days=7)).reminders == []
        assert dunning_run(on=DUE + timedelta(days=20)).reminders == []
    assert PaymentReminder.objects.count() == 1
    [message] = mail.outbox
    assert message.to == ["ap@gamma.example"]
    assert invoice.number in message.body and "11,300.00" in message.body
    assert "付款提醒" in message.subject  # the customer's language
    reminder.refresh_from_db()
    assert reminder.emailed_at is not None
    [event] = CustomerEvent.objects.filter(customer=customer, kind=CustomerEvent.Kind.PAYMENT_REMINDER)
    assert event.params["letter"] == "friendly" and event.params["amount"] == "11300.00"
    assert "11300.00" in event.sentence


def test_the_daily_task_run_twice_sends_once(customer, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    issued_invoice(customer=customer, gross="500.00", issued_on=today - timedelta(days=40), due_date=today - timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        run_dunning.delay()
        run_dunning.delay()
    [reminder] = PaymentReminder.objects.all()
    assert reminder.kind == "friendly" and reminder.run_date == today
    assert len(mail.outbox) == 1


def test_a_late_first_run_sends_only_the_level_reached(customer, invoice):
    [reminder] = dunning_run(on=DUE + timedelta(days=35)).reminders
    assert reminder.kind == "firm"
    assert dunning_run(on=DUE + timedelta(days=36)).reminders == []


def test_two_invoices_at_one_level_make_one_letter(customer, invoice):
    issued_invoice(customer=customer, gross="100.00", issued_on=DUE - timedelta(days=30), due_date=DUE - timedelta(days=2))
    [reminder] = dunning_run(on=DUE + timedelta(days=8)).reminders
    assert reminder.invoice_count == 2 and reminder.amount_overdue == Decimal("11400.00")
    assert PaymentReminderLine.objects.filter(reminder=reminder).count() == 2


def test_a_paid_invoice_is_not_reminded(customer, invoice):
    pay(invoice, "11300.00")
    assert dunning_run(on=DUE + timedelta(days=10)).reminders == []


def test_a_customer_without_email_is_reminded_but_not_mailed(invoice, django_capture_on_commit_callbacks):
    invoice.customer.email = ""
    invoice.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        [reminder] = dunning_run(on=DUE + timedelta(days=7)).reminders
    reminder.refresh_from_db()
    assert reminder.emailed_at is None and mail.outbox == []


def test_the_final_level_holds_credit_and_new_orders_go_to_review(customer, invoice, make_user):
    dunning_run(on=DUE + timedelta(days=7))
    dunning_run(on=DUE + timedelta(days=30))
    result = dunning_run(on=DUE + timedelta(days=60))
    assert [r.kind for r in result.reminders] == ["final"] and result.holds_placed == 1
    hold = CreditHold.objects.get(customer=customer, released_at__isnull=True)
    assert hold.level == levels()["final"]
    assert CustomerEvent.objects.filter(customer=customer, kind=CustomerEvent.Kind.CREDIT_HOLD).count() == 1

    # The review's own overdue threshold is far away: the hold alone sends the order to review.
    rules = ReviewSettings.current()
    rules.overdue_days = 3000
    rules.save()
    sales = make_user("sales")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    [finding] = ReviewFinding.objects.filter(order=order, rule=ReviewRule.OVERDUE)
    assert finding.figures["invoices"] == [invoice.number]
    assert finding.figures["balance"] == "11300.00"


def test_a_payment_releases_the_hold_and_orders_pass_again(customer, invoice, make_user, django_capture_on_commit_callbacks):
    dunning_run(on=DUE + timedelta(days=61))
    assert CreditHold.objects.filter(customer=customer, released_at__isnull=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(
            customer=customer,
            amount=Decimal("11300.00"),
            date=DUE + timedelta(days=62),
            method=PaymentMethod.BANK_TRANSFER,
            allocations=[(invoice, Decimal("11300.00"))],
            by=make_user("finance"),
        )
    hold = CreditHold.objects.get(customer=customer)
    assert hold.released_at is not None and hold.release == CreditHold.Release.PAID
    [event] = CustomerEvent.objects.filter(customer=customer, kind=CustomerEvent.Kind.CREDIT_HOLD_RELEASED)
    assert event.params["because"] == "paid"
    sales = make_user("sales")
    customer.credit_limit = Decimal("1000000.00")
    customer.save()
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    assert not ReviewFinding.objects.filter(order=order, rule=ReviewRule.OVERDUE).exists()


def test_money_recorded_first_and_allocated_later_releases_on_allocation(
    customer, invoice, make_user, django_capture_on_commit_callbacks
):
    dunning_run(on=DUE + timedelta(days=61))
    clerk = make_user("finance")
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_record(
            customer=customer, amount=Decimal("11300.00"), date=DUE + timedelta(days=62), method=PaymentMethod.ALIPAY, by=clerk
        )
    assert CreditHold.objects.get(customer=customer).released_at is None  # an advance pays no invoice yet
    with django_capture_on_commit_callbacks(execute=True):
        payment_allocate(payment=payment, allocations=[(invoice, Decimal("11300.00"))], by=clerk)
    assert CreditHold.objects.get(customer=customer).released_at is not None


def test_a_part_payment_keeps_the_hold(customer, invoice):
    dunning_run(on=DUE + timedelta(days=61))
    pay(invoice, "11000.00")
    outbox_publish(topic="billing.payment_received", payload={"customer_id": customer.pk})
    outbox_dispatch()
    assert CreditHold.objects.get(customer=customer).released_at is None


def test_the_daily_run_also_releases_holds_whose_invoices_were_paid(customer, invoice):
    dunning_run(on=DUE + timedelta(days=61))
    pay(invoice, "11300.00")
    assert dunning_run(on=DUE + timedelta(days=62)).holds_released == 1


def test_finance_may_release_a_hold_by_hand_saying_why(customer, invoice, make_user):
    dunning_run(on=DUE + timedelta(days=61))
    hold = CreditHold.objects.get(customer=customer)
    with pytest.raises(Exception, match="not allowed"):
        credit_hold_release(hold=hold, by=make_user("sales"), note="promised")
    with pytest.raises(Exception, match="Say why"):
        credit_hold_release(hold=hold, by=make_user("finance"), note="  ")
    released = credit_hold_release(hold=hold, by=make_user("finance"), note="Payment promised by phone for Friday")
    assert released.release == CreditHold.Release.MANUAL


def test_a_switched_off_level_sends_nothing(invoice):
    DunningLevel.objects.filter(kind="friendly").update(active=False)
    assert dunning_run(on=DUE + timedelta(days=10)).reminders == []


# --- pages ------------------------------------------------------------------------------------------


def test_finance_sees_reminders_and_the_customers_on_hold(client_as, customer, invoice):
    dunning_run(on=DUE + timedelta(days=61))
    client = client_as("finance")
    body = client.get(reverse("billing:reminder_list")).content.decode()
    assert "丙 Gamma Electronics" in body and "Final notice" in body and "Customers on credit hold" in body
    reminder = PaymentReminder.objects.get()
    detail = client.get(reminder.get_absolute_url()).content.decode()
    assert invoice.number in detail


def test_sales_may_not_see_reminders_or_change_levels(client_as):
    client = client_as("sales")
    assert client.get(reverse("billing:reminder_list")).status_code == 403
    level = DunningLevel.objects.get(kind="final")
    assert client.post(reverse("billing:dunning_level_edit", args=[level.pk]), {"days_after_due": "1"}).status_code == 403
    level.refresh_from_db()
    assert level.days_after_due == 60


def test_a_manager_changes_a_level_and_a_clash_is_refused(client_as):
    client = client_as("manager")
    final = DunningLevel.objects.get(kind="final")
    response = client.post(
        reverse("billing:dunning_level_edit", args=[final.pk]), {"days_after_due": "45", "credit_hold": "on", "active": "on"}
    )
    assert response.status_code == 302
    final.refresh_from_db()
    assert final.days_after_due == 45
    clash = client.post(reverse("billing:dunning_level_edit", args=[final.pk]), {"days_after_due": "30", "active": "on"})
    assert clash.status_code == 422
    final.refresh_from_db()
    assert final.days_after_due == 45 and final.credit_hold


def test_the_release_page_asks_and_releases(client_as, customer, invoice):
    dunning_run(on=DUE + timedelta(days=61))
    hold = CreditHold.objects.get(customer=customer)
    client = client_as("finance")
    url = reverse("billing:credit_hold_release", args=[hold.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"note": ""}).status_code == 422
    assert client.post(url, {"note": "Paid in cash at the counter"}).status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None


def test_the_customer_page_shows_the_credit_hold(client_as, customer, invoice):
    dunning_run(on=DUE + timedelta(days=61))
    body = client_as("finance").get(customer.get_absolute_url()).content.decode()
    assert "On credit hold since" in body and "Final notice" in body


def test_the_reminder_list_costs_the_same_queries_for_1_or_6_reminders(client_as):
    client = client_as("finance")
    url = reverse("billing:reminder_list")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for _ in range(1):
        issued_invoice(customer=CustomerFactory(email="a@b.example"), gross="5.00", issued_on=DUE, due_date=DUE)
    dunning_run(on=DUE + timedelta(days=61))
    few = queries()
    for _ in range(5):
        issued_invoice(customer=CustomerFactory(email="a@b.example"), gross="5.00", issued_on=DUE, due_date=DUE)
    dunning_run(on=DUE + timedelta(days=62))
    assert PaymentReminder.objects.count() == 6
    assert queries() == few

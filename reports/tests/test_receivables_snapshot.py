"""The daily receivables snapshot against billing: every past day's ageing equals what was open on
that day invoice by invoice, today's equals billing's own ageing, and the flows and collections are
the day's invoices, credit notes and payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from billing.ageing import ageing_buckets, ageing_totals
from billing.models import Invoice
from billing.payments.models import Payment, PaymentAllocation, PaymentMethod, PaymentRecordState
from billing.tests.receivables_factories import issued_credit_note, issued_invoice, received_payment
from customers.tests.factories import CustomerFactory
from reports.receivables.handlers import refresh_after_billing_event, refresh_after_payment
from reports.receivables.models import CollectionDay, ReceivablesDay
from reports.receivables.selectors import collections_by_method, receivables_figures, receivables_series
from reports.receivables.snapshot import receivables_history, receivables_rebuild, receivables_refresh

pytestmark = pytest.mark.django_db

D = Decimal
D1 = date(2026, 1, 1)


def day(n: int) -> date:
    return D1 + timedelta(days=n - 1)


def allocate(clock, invoice: Invoice, amount: str, on: date, *, method=PaymentMethod.BANK_TRANSFER) -> PaymentAllocation:
    """Money received and applied to the invoice on `on`, as the payments services record it."""
    clock.set(on)
    payment = received_payment(customer=invoice.customer, amount=amount, on=on)
    Payment.objects.filter(pk=payment.pk).update(method=method, amount_allocated=D(amount))
    allocation = PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=D(amount))
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=F("amount_paid") + D(amount))
    return allocation


def credit(clock, invoice: Invoice, amount: str, on: date) -> None:
    clock.set(on)
    issued_credit_note(invoice=invoice, gross=amount, issued_on=on)
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=F("amount_credited") + D(amount))


def open_on(invoice: Invoice, on: date) -> Decimal:
    """What the invoice still owed at the end of `on`, from its dated changes (the brute force)."""
    if invoice.issued_at.date() > on:
        return D("0")
    paid = sum(
        (
            a.amount
            for a in invoice.payment_allocations.all()
            if a.created_at.date() <= on and not (a.reversed_at and a.reversed_at.date() <= on)
        ),
        D("0"),
    )
    credited = sum((c.total_gross for c in invoice.credit_notes.all() if c.issued_at.date() <= on), D("0"))
    return invoice.total_gross - paid - credited


def brute_force_ageing(on: date) -> dict[str, Decimal]:
    per_bucket = {bucket.key: D("0") for bucket in ageing_buckets()}
    for invoice in Invoice.objects.filter(status="issued"):
        amount = open_on(invoice, on)
        if amount <= 0:
            continue
        days = (on - invoice.due_date).days
        bucket = next(b for b in ageing_buckets() if b.holds(days))
        per_bucket[bucket.key] += amount
    return per_bucket


@pytest.fixture
def book(clock):
    """Two customers over 100 days: invoices due after 30 days, paid late, partly, credited, or never."""
    a, b = CustomerFactory(name="甲 Alpha"), CustomerFactory(name="乙 Beta")
    first = issued_invoice(customer=a, gross="1000.00", issued_on=day(1), due_date=day(31))
    second = issued_invoice(customer=a, gross="500.00", issued_on=day(10), due_date=day(40))
    third = issued_invoice(customer=b, gross="250.00", issued_on=day(20), due_date=day(50))
    fourth = issued_invoice(customer=b, gross="80.00", issued_on=day(70), due_date=day(100))
    allocate(clock, first, "400.00", day(25))
    allocate(clock, first, "600.00", day(75), method=PaymentMethod.ALIPAY)  # 44 days late
    allocate(clock, second, "100.00", day(45), method=PaymentMethod.WECHAT_PAY)
    credit(clock, third, "50.00", day(60))
    undone = allocate(clock, third, "200.00", day(65))
    clock.set(day(68))
    PaymentAllocation.objects.filter(pk=undone.pk).update(reversed_at=F("created_at") + timedelta(days=3))
    Invoice.objects.filter(pk=third.pk).update(amount_paid=F("amount_paid") - D("200.00"))
    clock.set(day(100))
    return {"a": a, "b": b, "invoices": [first, second, third, fourth]}


def test_every_past_days_ageing_is_what_was_open_that_day(book):
    history = {entry["day"]: entry for entry in receivables_history()}
    assert min(history) == day(1) and max(history) == day(100)
    for n in range(1, 101):
        expected = brute_force_ageing(day(n))
        entry = history[day(n)]
        assert entry["buckets"] == expected, f"day {n}"
        assert entry["open_total"] == sum(expected.values(), D("0"))
    # Spot checks a reader can follow: on day 50 the first invoice has 600.00 open 19 days past due,
    # the second 400.00 10 days past due, the third 250.00 due today.
    assert history[day(50)]["buckets"]["d1_30"] == D("1000.00")
    assert history[day(50)]["buckets"]["current"] == D("250.00")
    # Day 66: 600.00 + 400.00 open, the third settled by a credit note and 200.00 paid on day 65...
    assert history[day(66)]["open_total"] == D("1000.00")
    assert history[day(68)]["open_total"] == D("1200.00")  # ...whose allocation was undone on day 68


def test_todays_row_is_billings_own_ageing(book):
    receivables_rebuild()
    today = ReceivablesDay.objects.get(day=day(100))
    totals = ageing_totals(as_of=day(100))
    assert today.open_total == totals["total"] == D("680.00")
    assert today.overdue_total == totals["overdue"]
    assert {key: D(amount) for key, amount in today.buckets.items()} == {b.key: totals[b.key] for b in ageing_buckets()}


def test_open_amounts_changed_without_a_dated_record_still_add_up_today(clock, book):
    """An invoice whose paid amount moved without an allocation row (a data fix): the history takes the
    difference on its issue day, so today's figures still equal billing's."""
    invoice = issued_invoice(customer=book["a"], gross="300.00", issued_on=day(90), due_date=day(95), paid="120.00")
    history = {entry["day"]: entry for entry in receivables_history()}
    assert history[day(100)]["open_total"] == ageing_totals(as_of=day(100))["total"]
    assert history[day(90)]["open_total"] - history[day(89)]["open_total"] == invoice.open_amount


def test_flows_and_collections_by_method(book):
    receivables_rebuild()
    rows = {row.day: row for row in ReceivablesDay.objects.all()}
    assert rows[day(1)].invoiced == D("1000.00")
    assert rows[day(60)].credited == D("50.00")
    assert rows[day(75)].collected == D("600.00")
    assert sum(r.collected for r in rows.values()) == D("1300.00")
    collections = collections_by_method(start=day(1), end=day(100), grain="month")
    assert collections["labels"] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [m for m, _label in collections["methods"]] == ["bank_transfer", "alipay", "wechat_pay"]
    by_month = {row["label"]: row for row in collections["rows"]}
    assert by_month["2026-01"]["amounts"] == {"bank_transfer": D("400.00"), "alipay": D("0"), "wechat_pay": D("0")}
    assert by_month["2026-02"]["total"] == D("100.00")
    assert by_month["2026-03"]["amounts"]["alipay"] == D("600.00")
    assert by_month["2026-03"]["amounts"]["bank_transfer"] == D("200.00")


def test_a_payment_voided_or_dated_back_changes_that_days_collections(clock, book):
    receivables_rebuild()
    payment = received_payment(customer=book["a"], amount="30.00", on=day(80))
    refresh_after_payment({"id": payment.pk})
    assert ReceivablesDay.objects.get(day=day(80)).collected == D("30.00")
    Payment.objects.filter(pk=payment.pk).update(state=PaymentRecordState.VOID)
    refresh_after_payment({"id": payment.pk})
    assert ReceivablesDay.objects.get(day=day(80)).collected == D("0.00")
    assert not CollectionDay.objects.filter(day=day(80)).exists()


def test_series_reads_levels_at_each_buckets_end_and_sums_flows_within(book):
    receivables_rebuild()
    series = receivables_series(start=day(1), end=day(100), grain="month")
    january = series[0]
    assert january["label"] == "2026-01" and january["last_day"] == day(31)
    assert january["invoiced"] == D("1750.00")
    assert january["open_total"] == D("1350.00")  # 1750 invoiced, 400 paid
    assert january["overdue_total"] == D("0.00")  # the first invoice falls due on the 31st
    assert january["dso"] == D("23.9")  # 1350 / 1750 × 31
    april = series[-1]
    assert april["last_day"] == day(100)
    assert april["invoiced"] == D("0")
    assert april["dso"] is None
    march = series[2]
    assert march["overdue_total"] == D("400.00") + D("200.00")
    assert march["overdue_share"] == D("0.8824")  # 600 of 680


def test_dashboard_figures(book):
    receivables_rebuild()
    figures = receivables_figures()
    assert figures["open_total"] == D("680.00")
    assert figures["overdue_total"] == D("600.00")
    assert figures["dso"] == D("185.5")  # 680 open / 330 invoiced in the last 90 days × 90
    assert figures["as_of"] is not None


def test_refresh_writes_todays_row_only(clock, book):
    receivables_rebuild()
    ReceivablesDay.objects.filter(day=day(50)).update(open_total=D("1.00"))
    issued_invoice(customer=book["a"], gross="20.00", issued_on=day(100), due_date=day(130))
    receivables_refresh()
    assert ReceivablesDay.objects.get(day=day(100)).open_total == D("700.00")
    assert ReceivablesDay.objects.get(day=day(100)).invoiced == D("20.00")
    assert ReceivablesDay.objects.get(day=day(50)).open_total == D("1.00")


def test_billing_events_read_the_open_amounts_at_most_once_a_minute(clock, book, settings):
    settings.REPORTS_RECEIVABLES_AGEING_SECONDS = 60
    receivables_rebuild()
    issued_invoice(customer=book["a"], gross="20.00", issued_on=day(100), due_date=day(130))
    refresh_after_billing_event({})  # the rebuild read them a moment ago
    today = ReceivablesDay.objects.get(day=day(100))
    assert (today.invoiced, today.open_total) == (D("20.00"), D("680.00"))
    clock.set(day(100), hour=12, minute=2)
    refresh_after_billing_event({})
    assert ReceivablesDay.objects.get(day=day(100)).open_total == D("700.00")
    issued_invoice(customer=book["a"], gross="5.00", issued_on=day(100), due_date=day(130))
    receivables_refresh()  # the scheduled refresh always reads them
    assert ReceivablesDay.objects.get(day=day(100)).open_total == D("705.00")

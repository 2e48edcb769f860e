"""Exact matches applied in bulk leave exactly what applying them one line at a time leaves: the same
payments (numbers included), allocations, paid amounts, line states, timelines, orders' payment
status and completion, remembered payers and outbox events; and the bulk path takes a fixed number
of queries whatever the number of lines."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from billing.bank import reconciliation
from billing.bank.models import BankStatementLine, MatchSuggestion, PayerAccount
from billing.bank.services import bank_file_import
from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from billing.models import Invoice, InvoiceEvent
from billing.payments.models import Payment, PaymentAllocation, PaymentEvent
from billing.tests.factories import shipped_order
from config.numbering import NumberSequence
from config.outbox import OutboxEvent
from customers.tests.factories import CustomerFactory
from orders.models import OrderEvent, OrderStatus, PaymentStatus, SalesOrder
from tests.queries import queries_for

from .conftest import issued_invoice

pytestmark = pytest.mark.django_db
HEADER = "交易日期,金额,对方户名,对方账号,摘要\n"


def _import(actor, account, rows: list[str], name: str = "s.csv") -> dict[int, reconciliation.LinePlan]:
    """Import the rows without applying anything; the exact plans of the money-in lines."""
    summary = bank_file_import(
        raw=(HEADER + "".join(rows)).encode(), filename=name, actor=actor, account=account, auto_apply=False
    )
    lines = list(BankStatementLine.objects.filter(statement__bank_import=summary.bank_import).order_by("pk"))
    outcome = reconciliation.lines_match(lines=lines, actor=actor, auto_apply=False)
    return {pk: plan for pk, plan in outcome.plans.items() if plan.exact_customer is not None}


def _invoice_lines_separately(order, finance) -> list[Invoice]:
    """One issued invoice per line of the order."""
    invoices = []
    for line in order.lines.order_by("position"):
        draft = invoice_draft_from_orders(orders=[order], by=finance, kind="ordinary", quantities={line.pk: line.quantity})
        invoices.append(invoice_issue(invoice=draft.invoice, by=finance))
    return invoices


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _snapshot() -> dict:
    """Everything applying the matches writes, with database ids that differ between two runs replaced."""
    numbers = dict(Payment.objects.values_list("pk", "number"))
    invoice_numbers = dict(Invoice.objects.values_list("pk", "number"))

    def payload(event: OutboxEvent) -> dict:
        body = dict(event.payload)
        if event.topic.startswith("billing.payment"):
            body["id"] = numbers[body["id"]]
        return body

    def actor(event) -> tuple:
        return (event.by_id, event.actor_kind, event.actor_name)

    return {
        "payments": sorted(
            Payment.objects.values_list(
                "number",
                "customer_id",
                "date",
                "amount",
                "currency",
                "method",
                "state",
                "payer_name",
                "payer_account",
                "reference",
                "note",
                "source",
                "source_type_id",
                "source_id",
                "amount_allocated",
                "amount_written_off",
                "amount_refunded",
                "created_by_id",
            )
        ),  # fmt: skip
        "allocations": sorted(
            (numbers[a.payment_id], invoice_numbers[a.invoice_id], a.amount, a.created_by_id, a.reversed_at)
            for a in PaymentAllocation.objects.all()
        ),
        "invoices": sorted(Invoice.objects.values_list("number", "amount_paid", "amount_credited")),
        "lines": sorted(
            BankStatementLine.objects.values_list("pk", "status", "customer_id", "match_method", "matched_by_id", "note")
        ),
        "suggestions": sorted(MatchSuggestion.objects.values_list("line_id", "invoice_id", "method", "score", "amount")),
        "payment_events": sorted(
            (numbers[e.payment_id], e.kind, _json(e.params), e.from_state, e.to_state, e.note, actor(e))
            for e in PaymentEvent.objects.all()
        ),
        "invoice_events": sorted(
            (invoice_numbers[e.invoice_id], e.kind, _json(e.params), actor(e))
            for e in InvoiceEvent.objects.filter(kind="payment")
        ),
        "order_events": sorted(
            (e.order_id, e.kind, _json(e.params), e.from_state, e.to_state, actor(e)) for e in OrderEvent.objects.all()
        ),
        "orders": sorted(SalesOrder.objects.values_list("pk", "status", "payment_status")),
        "payers": sorted(
            PayerAccount.objects.values_list("customer_id", "account_key", "account_number", "payer_name", "last_used")
        ),
        "outbox": sorted((e.topic, _json(payload(e))) for e in OutboxEvent.objects.all()),
        "counter": sorted(NumberSequence.objects.filter(key="payment").values_list("year", "last_value")),
    }


def _applied(apply) -> dict:
    """What `apply` leaves, rolled back afterwards so the other path starts from the same rows."""
    with transaction.atomic():
        apply()
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


def test_bulk_and_one_by_one_leave_the_same_payments_allocations_statuses_and_events(account, actor, clerk):
    day = timezone.localdate() - timedelta(days=2)
    # A delivered order on one invoice: paid by a line naming it, and a second line naming it again.
    one_invoice_order = shipped_order(quantity=2)
    single = invoice_issue(
        invoice=invoice_draft_from_orders(orders=[one_invoice_order], by=clerk, kind="ordinary").invoice, by=clerk
    )
    # A delivered order on two invoices, each paid by its own line: partly paid, then paid and completed.
    two_invoice_order = shipped_order(products=2, quantity=3)
    first_half, second_half = _invoice_lines_separately(two_invoice_order, clerk)
    # A payer known by account (an older last use) pays exactly; a new account is remembered.
    known = CustomerFactory(name="宁波甬江贸易有限公司")
    PayerAccount.objects.create(customer=known, account_key="6222000011112222", account_number="6222 0000 1111 2222",
                                last_used=day - timedelta(days=40))  # fmt: skip
    issued_invoice(known, "777.77")
    partial = issued_invoice(gross="900.00")
    rows = [
        f"{day},{single.total_gross},上海付款人,11110001,货款 {single.number}\n",
        f"{day},{first_half.total_gross},杭州付款人,22220002,{first_half.number}\n",
        f"{day},{second_half.total_gross},杭州付款人,22220002,{second_half.number}\n",
        f"{day},{single.total_gross},上海付款人,11110001,货款 {single.number}\n",  # paid twice: the second waits
        f"{day},777.77,宁波甬江贸易有限公司,6222000011112222,货款\n",
        f"{day},450.00,某公司,33330003,{partial.number} 部分\n",  # not exact: suggested only
    ]
    exact = _import(actor, account, rows)
    assert len(exact) == 5

    one_by_one = _applied(lambda: reconciliation.lines_accept_each(plans=exact, actor=actor))
    bulk = _applied(lambda: reconciliation.lines_accept_exact(plans=exact, actor=actor))

    assert bulk == one_by_one
    # And what they both did is what the business expects.
    assert len(bulk["payments"]) == 4 and len(bulk["allocations"]) == 4
    statuses = [status for _pk, status, *_rest in bulk["lines"]]
    assert statuses.count("matched") == 4 and statuses.count("unmatched") == 2
    orders = {pk: (status, payment) for pk, status, payment in bulk["orders"]}
    assert orders[one_invoice_order.pk] == (OrderStatus.COMPLETED, PaymentStatus.PAID)
    assert orders[two_invoice_order.pk] == (OrderStatus.COMPLETED, PaymentStatus.PAID)
    steps = [
        params
        for order_id, kind, params, *_rest in bulk["order_events"]
        if order_id == two_invoice_order.pk and kind == "payment"
    ]
    assert sorted(steps) == sorted([_json({"from": "", "to": "partly_paid"}), _json({"from": "partly_paid", "to": "paid"})])
    payers = {(customer, key): last_used for customer, key, _n, _p, last_used in bulk["payers"]}
    assert payers[(known.pk, "6222000011112222")] == day
    assert payers[(single.customer_id, "11110001")] == day
    assert sum(1 for topic, _body in bulk["outbox"] if topic == "billing.payment_received") == 4


def test_applying_twice_records_nothing_more(account, actor):
    invoice = issued_invoice(gross="321.00")
    exact = _import(actor, account, [f"{timezone.localdate()},321.00,X,1,{invoice.number}\n"])
    assert reconciliation.lines_accept_exact(plans=exact, actor=actor) == 1
    assert reconciliation.lines_accept_exact(plans=exact, actor=actor) == 0
    assert Payment.objects.count() == 1 and Invoice.objects.get(pk=invoice.pk).amount_paid == Decimal("321.00")


def test_a_line_whose_payment_was_recorded_meanwhile_is_not_paid_twice(account, actor):
    """A payment already recorded for the line (e.g. the line matched, undone and its payment kept) refuses that line only."""
    first, second = issued_invoice(gross="100.00"), issued_invoice(gross="200.00")
    exact = _import(
        actor,
        account,
        [f"{timezone.localdate()},100.00,X,1,{first.number}\n", f"{timezone.localdate()},200.00,X,1,{second.number}\n"],
    )
    line_one = min(exact)
    reconciliation.lines_accept_each(plans={line_one: exact[line_one]}, actor=actor)
    BankStatementLine.objects.filter(pk=line_one).update(status="unmatched")  # as if the line were open again
    assert reconciliation.lines_accept_exact(plans=exact, actor=actor) == 1
    assert Payment.objects.filter(source_id=line_one).count() == 1
    assert Invoice.objects.get(pk=second.pk).amount_paid == Decimal("200.00")


def test_the_bulk_path_takes_the_same_queries_for_few_or_many_lines(account, actor):
    counts = []
    for size in (2, 12):
        customer = CustomerFactory()
        invoices = [issued_invoice(customer, f"{100 + i}.{size:02d}") for i in range(size)]
        rows = [f"{timezone.localdate()},{invoice.total_gross},X,1,{invoice.number}\n" for invoice in invoices]
        exact = _import(actor, account, rows, name=f"{size}.csv")
        assert len(exact) == size
        counts.append(queries_for(lambda exact=exact: reconciliation.lines_accept_exact(plans=exact, actor=actor)))
        assert Invoice.objects.filter(pk__in=[i.pk for i in invoices], amount_paid=0).count() == 0
    assert counts[0] == counts[1], counts

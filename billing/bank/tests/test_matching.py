"""Matching bank lines to invoices: suggestions by number, payer account, name and amount; exact
matches applied as payments; accept, split, combine, not-a-payment and undo."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from billing.bank import reconciliation
from billing.bank.models import BankStatementLine, MatchSuggestion, PayerAccount
from billing.bank.services import bank_file_import, bank_import_apply_pending
from billing.models import Invoice
from billing.payments.models import Payment, PaymentRecordState
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from customers.tests.factories import CustomerFactory
from orders.tests.factories import customer_with_address, draft_order

from .conftest import issued_invoice

pytestmark = pytest.mark.django_db
HEADER = "交易日期,金额,对方户名,对方账号,摘要\n"


def _lines(actor, account, *rows: str, auto_apply: bool | None = None, name: str = "s.csv"):
    summary = bank_file_import(
        raw=(HEADER + "".join(rows)).encode(), filename=name, actor=actor, account=account, auto_apply=auto_apply
    )
    return summary, list(BankStatementLine.objects.filter(statement__bank_import=summary.bank_import).order_by("pk"))


def _suggested(line) -> list[tuple[str, str]]:
    return [(s.invoice.number, s.method) for s in line.suggestions.select_related("invoice")]


def _reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def _active_payment(line):
    return reconciliation.line_payment(line)


def test_invoice_number_in_the_memo_and_the_exact_amount_is_paid_automatically(account, actor):
    invoice = issued_invoice(gross="11300.00", number="INV-2026-000123")
    summary, (line,) = _lines(actor, account, "2026-11-02,11300.00,杭州新叶,12020211,货款 inv2026000123\n")
    assert summary.matched == 1
    line = _reload(line)
    assert line.status == "matched" and line.customer == invoice.customer and line.match_method == "number"
    payment = _active_payment(line)
    assert payment.amount == Decimal("11300.00") and payment.payer_account == "12020211"
    assert _reload(invoice).amount_paid == Decimal("11300.00")
    # The payer's account is remembered for the customer.
    assert PayerAccount.objects.filter(customer=invoice.customer, account_key="12020211").exists()


def test_with_auto_apply_off_exact_matches_wait_as_suggestions(account, actor):
    issued_invoice(gross="500.00", number="INV-2026-000200")
    with override_settings(BANK_AUTO_APPLY_EXACT=False):
        summary, (line,) = _lines(actor, account, "2026-11-02,500.00,X,1,INV-2026-000200\n")
    assert summary.matched == 0 and summary.suggested == 1
    assert _reload(line).status == "unmatched" and _suggested(line) == [("INV-2026-000200", "number")]
    assert not Payment.objects.exists()


def test_a_number_with_a_different_amount_is_suggested_not_applied(account, actor):
    issued_invoice(gross="1000.00", number="INV-2026-000300")
    summary, (line,) = _lines(actor, account, "2026-11-02,400.00,X,1,INV-2026-000300 part\n")
    assert summary.matched == 0
    suggestion = line.suggestions.get()
    assert suggestion.amount == Decimal("400.00") and suggestion.method == "number"


def test_two_invoice_numbers_whose_open_amounts_add_up_are_both_paid(account, actor):
    customer = CustomerFactory()
    first = issued_invoice(customer, "100.00", number="INV-2026-000401")
    second = issued_invoice(customer, "250.50", number="INV-2026-000402")
    summary, (line,) = _lines(actor, account, "2026-11-02,350.50,X,1,INV-2026-000401 INV-2026-000402\n")
    assert summary.matched == 1
    assert (_reload(first).amount_paid, _reload(second).amount_paid) == (Decimal("100.00"), Decimal("250.50"))


def test_an_order_number_finds_the_orders_invoice(account, actor, make_user):
    customer, address = customer_with_address()
    order = draft_order(by=make_user("sales"), customer=customer, address=address)
    invoice = issued_invoice(customer, "226.00", order=order)
    summary, (line,) = _lines(actor, account, f"2026-11-02,226.00,X,1,payment for {order.number}\n")
    assert summary.matched == 1 and _reload(invoice).amount_paid == Decimal("226.00")


def test_a_known_payer_account_pays_the_one_invoice_of_that_amount(account, actor):
    customer = CustomerFactory()
    PayerAccount.objects.create(customer=customer, account_key="62220000111", account_number="6222 0000 111")
    issued_invoice(customer, "999.00")
    target = issued_invoice(customer, "1500.00")
    summary, (line,) = _lines(actor, account, "2026-11-03,1500.00,Somebody,6222 0000 111,no reference\n")
    assert summary.matched == 1
    assert _reload(line).match_method == "account" and _reload(target).amount_paid == Decimal("1500.00")


def test_the_payers_name_suggests_the_customers_invoices(account, actor):
    customer = CustomerFactory(name="深圳海风电子有限公司")
    small = issued_invoice(customer, "300.00")
    large = issued_invoice(customer, "800.00")
    summary, (line,) = _lines(actor, account, "2026-11-03,500.00,深圳海风电子有限公司,44001,货款\n")
    assert summary.matched == 0
    assert {(s.invoice_id, s.method) for s in line.suggestions.all()} == {(small.pk, "name"), (large.pk, "name")}
    # The exact amount of one of them is applied.
    summary, (line,) = _lines(actor, account, "2026-11-04,800.00,深圳海风电子有限公司,44001,货款\n", name="t.csv")
    assert summary.matched == 1 and _reload(large).amount_paid == Decimal("800.00")


def test_the_amount_alone_is_a_hint_never_applied(account, actor):
    invoice = issued_invoice(gross="777.77")
    summary, (line,) = _lines(actor, account, "2026-11-03,777.77,Unknown Ltd,1,misc\n")
    assert summary.matched == 0 and _suggested(line) == [(invoice.number, "amount")]
    # An amount that many invoices share suggests none of them.
    for _ in range(4):
        issued_invoice(gross="50.00")
    _summary, (line,) = _lines(actor, account, "2026-11-03,50.00,Unknown Ltd,1,misc\n", name="u.csv")
    assert not line.suggestions.exists()


def test_money_out_and_other_currencies_get_no_suggestion(account, actor):
    issued_invoice(gross="250.00", number="INV-2026-000500")
    summary, (line,) = _lines(actor, account, "2026-11-03,-250.00,X,1,INV-2026-000500\n")
    assert summary.matched == 0 and not line.suggestions.exists()


def test_accepting_a_suggestion_records_the_payment_and_the_rest_is_an_advance(account, actor):
    invoice = issued_invoice(gross="1000.00", number="INV-2026-000600")
    _summary, (line,) = _lines(actor, account, "2026-11-03,1200.00,X,8888,INV-2026-000600\n")
    suggestion = line.suggestions.get()
    reconciliation.line_accept(line=line, customer=invoice.customer, allocations=[(invoice, suggestion.amount)], actor=actor)
    payment = _active_payment(_reload(line))
    assert payment.amount == Decimal("1200.00") and payment.unallocated == Decimal("200.00")
    assert _reload(invoice).open_amount == Decimal("0.00")
    assert not MatchSuggestion.objects.filter(line=line).exists()
    with pytest.raises(DomainError, match="already reconciled"):
        reconciliation.line_accept(line=line, customer=invoice.customer, allocations=[(invoice, Decimal("1"))], actor=actor)
    assert Payment.objects.count() == 1


def test_split_one_line_over_three_invoices_sums_exactly(account, actor):
    customer = CustomerFactory()
    invoices = [issued_invoice(customer, gross) for gross in ("333.33", "333.33", "333.34")]
    _summary, (line,) = _lines(actor, account, "2026-11-03,1000.00,X,1,three invoices\n")
    reconciliation.line_accept(line=line, customer=customer, allocations=[(i, i.total_gross) for i in invoices], actor=actor)
    assert sum((_reload(i).amount_paid for i in invoices), Decimal("0")) == Decimal("1000.00")
    assert _active_payment(line).unallocated == Decimal("0.00")


def test_split_is_refused_beyond_the_line_or_across_customers(account, actor):
    a, b = issued_invoice(gross="600.00"), issued_invoice(gross="600.00")
    _summary, (line,) = _lines(actor, account, "2026-11-03,1000.00,X,1,x\n")
    with pytest.raises(DomainError, match="more than the line"):
        reconciliation.line_accept(
            line=line, customer=a.customer, allocations=[(a, Decimal("600")), (a, Decimal("600"))], actor=actor
        )
    with pytest.raises(DomainError, match="same customer"):
        reconciliation.line_accept(
            line=line, customer=a.customer, allocations=[(a, Decimal("400")), (b, Decimal("400"))], actor=actor
        )
    assert _reload(line).status == "unmatched" and not Payment.objects.exists()


def test_several_lines_combine_to_pay_one_invoice(account, actor):
    invoice = issued_invoice(gross="1000.00")
    _summary, lines = _lines(actor, account, "2026-11-03,600.00,X,1,first half\n", "2026-11-04,400.00,X,1,second half\n")
    reconciliation.lines_combine(lines=lines, invoice=invoice, actor=actor)
    assert _reload(invoice).amount_paid == Decimal("1000.00")
    assert [_reload(line).status for line in lines] == ["matched", "matched"]
    assert Payment.objects.filter(state=PaymentRecordState.RECORDED).count() == 2


def test_not_a_customer_payment_and_undo(account, actor):
    _summary, (line,) = _lines(actor, account, "2026-11-03,-35.00,Bank,,手续费\n")
    line = reconciliation.line_ignore(line=line, actor=actor, note="fee")
    assert _reload(line).status == "ignored" and _reload(line).note == "fee"
    reconciliation.line_undo(line=line, actor=actor)
    assert _reload(line).status == "unmatched" and _reload(line).note == ""


def test_undoing_a_match_voids_the_payment_and_opens_the_invoice_again(account, actor):
    invoice = issued_invoice(gross="880.00", number="INV-2026-000700")
    _summary, (line,) = _lines(actor, account, "2026-11-03,880.00,X,1,INV-2026-000700\n")
    payment = _active_payment(_reload(line))
    reconciliation.line_undo(line=line, actor=actor, note="wrong customer")
    assert _reload(payment).state == PaymentRecordState.VOID
    assert _reload(invoice).amount_paid == Decimal("0.00")
    line = _reload(line)
    assert line.status == "unmatched" and line.customer is None
    assert _suggested(line) == [("INV-2026-000700", "number")]  # suggested again
    # and it can be matched again.
    reconciliation.line_accept(line=line, customer=invoice.customer, allocations=[(invoice, Decimal("880.00"))], actor=actor)
    assert _reload(invoice).amount_paid == Decimal("880.00")


def test_reconciling_needs_the_permission(account, actor, make_user):
    invoice = issued_invoice(gross="10.00")
    _summary, (line,) = _lines(actor, account, "2026-11-03,10.00,X,1,x\n")
    sales = Actor.of(make_user("sales"))
    with pytest.raises(PermissionRefused):
        reconciliation.line_accept(line=line, customer=invoice.customer, allocations=[(invoice, Decimal("10"))], actor=sales)
    with pytest.raises(PermissionRefused):
        reconciliation.line_ignore(line=line, actor=sales)
    assert _reload(line).status == "unmatched"


def test_suggestions_for_a_batch_take_a_fixed_number_of_queries(account, actor, django_assert_max_num_queries):
    customer = CustomerFactory(name="Batch Payer Ltd")
    invoices = [issued_invoice(customer, f"{100 + i}.00") for i in range(20)]
    rows = [f"2026-11-03,{100 + i}.00,Batch Payer Ltd,1,{inv.number}\n" for i, inv in enumerate(invoices)]
    _summary, lines = _lines(actor, account, *rows, auto_apply=False)
    lines = list(BankStatementLine.objects.filter(pk__in=[line.pk for line in lines]))
    with django_assert_max_num_queries(12):
        plans = reconciliation.lines_suggest(lines)
    assert all(plan.exact_customer == customer.pk for plan in plans.values())
    assert Invoice.objects.filter(amount_paid__gt=0).count() == 0


def test_a_large_batch_of_exact_matches_is_applied_in_the_background(account, actor, settings):
    settings.BANK_AUTO_APPLY_INLINE = 1
    first = issued_invoice(gross="101.00", number="INV-2026-000801")
    second = issued_invoice(gross="102.00", number="INV-2026-000802")
    summary, lines = _lines(actor, account, "2026-11-03,101.00,X,1,INV-2026-000801\n", "2026-11-03,102.00,X,1,INV-2026-000802\n")
    assert (summary.matched, summary.pending) == (0, 2) and summary.bank_import.auto_apply_pending
    assert [line.status for line in lines] == ["unmatched", "unmatched"]  # waiting, with their suggestions
    assert bank_import_apply_pending(bank_import_id=summary.bank_import.pk) == 2
    assert (_reload(first).amount_paid, _reload(second).amount_paid) == (Decimal("101.00"), Decimal("102.00"))
    bank_import = _reload(summary.bank_import)
    assert bank_import.matched_count == 2 and not bank_import.auto_apply_pending
    # Run again (a duplicate message, beat's resume): nothing more.
    assert bank_import_apply_pending(bank_import_id=bank_import.pk) == 0
    assert Payment.objects.count() == 2

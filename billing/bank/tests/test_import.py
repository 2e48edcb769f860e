"""Importing statement files: every line once per account, overlapping files, refusals that write
nothing, balance warnings, limits and permissions."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from billing.bank.models import BankAccount, BankImport, BankStatement, BankStatementLine
from billing.bank.services import bank_file_import
from config.actors import Actor
from config.errors import DomainError, PermissionRefused

from .conftest import FILES

pytestmark = pytest.mark.django_db


def _import(actor, name: str, **kwargs):
    return bank_file_import(raw=(FILES / name).read_bytes(), filename=name, actor=actor, **kwargs)


def _counts():
    return BankImport.objects.count(), BankStatement.objects.count(), BankStatementLine.objects.count()


def test_camt053_import_stores_each_statement_and_line(account, actor):
    usd = BankAccount.objects.create(code="USD", name="USD account", number="CN77USD0000000000009", currency="USD")
    summary = _import(actor, "camt053_v02_two_statements.xml")
    assert (summary.imported, summary.skipped, summary.already_imported) == (5, 0, False)
    cny_statement, usd_statement = summary.statements
    assert cny_statement.account == account and usd_statement.account == usd
    assert cny_statement.opening_balance == Decimal("100000.00") and not cny_statement.balance_mismatch
    lines = list(BankStatementLine.objects.filter(account=account).order_by("pk"))
    assert [line.amount for line in lines] == [Decimal("11300.00"), Decimal("20000.00"), Decimal("5000.50"), Decimal("-250.00")]
    assert lines[0].counterparty_key == "1202021109001234567" and lines[0].status == "unmatched"
    assert summary.bank_import.file_format == "camt053" and summary.bank_import.imported_count == 5


def test_importing_the_same_file_again_adds_nothing(account, actor):
    _import(actor, "icbc_gb18030_preamble_totals.csv")
    before = _counts()
    again = _import(actor, "icbc_gb18030_preamble_totals.csv")
    assert again.already_imported and again.imported == 0 and again.skipped == 4
    assert _counts() == before


def test_an_overlapping_export_adds_only_the_new_lines(account, actor):
    whole = (FILES / "icbc_gb18030_preamble_totals.csv").read_bytes().decode("gb18030")
    rows = whole.split("\r\n")
    # The first export ends after the first page; the second (a later download) covers it all.
    first_page = "\r\n".join(rows[:9] + rows[-3:])
    first = bank_file_import(raw=first_page.encode("gb18030"), filename="page1.csv", actor=actor)
    assert first.imported == 2
    second = _import(actor, "icbc_gb18030_preamble_totals.csv")
    assert (second.imported, second.skipped) == (2, 2)
    assert BankStatementLine.objects.filter(account=account).count() == 4


def test_identical_lines_in_one_statement_are_both_kept_and_still_not_duplicated(account, actor):
    header = "交易日期,金额,对方户名,摘要\n"
    row = "2026-11-20,100.00,Same Payer,same memo\n"
    first = bank_file_import(raw=(header + row + row).encode(), filename="a.csv", actor=actor, account=account)
    assert first.imported == 2  # two real payments of the same amount on the same day
    second = bank_file_import(
        raw=(header + row + row + "2026-11-21,5.00,Other,x\n").encode(), filename="b.csv", actor=actor, account=account
    )
    assert (second.imported, second.skipped) == (1, 2)


def test_mt940_sequence_with_repeated_statement_reference_and_bank_account_after_the_slash(db, actor):
    BankAccount.objects.create(code="CCB", name="CCB", number="6222020200112233", currency="CNY")
    summary = _import(actor, "mt940_wrapped_sequence.sta")
    assert summary.imported == 3 and len(summary.statements) == 2
    assert [s.balance_mismatch for s in summary.statements] == [False, True]


def test_a_statement_whose_balances_do_not_add_up_imports_with_a_warning(db, actor):
    BankAccount.objects.create(code="A", name="A", number="31001234567800 01", currency="CNY")
    BankAccount.objects.create(code="B", name="B", number="3100123456780002", currency="CNY")
    summary = _import(actor, "camt053_v04_unbalanced_no_closing.xml")
    first, second = summary.statements
    assert first.balance_mismatch and first.balance_difference == Decimal("100.00")
    assert not second.balance_mismatch and second.opening_balance is None  # no balances: nothing to check
    assert summary.imported == 2 and summary.warnings == [first]


def test_a_malformed_file_is_refused_and_nothing_is_written(account, actor):
    raw = (FILES / "camt053_v02_two_statements.xml").read_bytes().replace(b">2000.00<", b">2,000.00<")
    with pytest.raises(DomainError, match="invalid amount"):
        bank_file_import(raw=raw, filename="bad.xml", actor=actor)
    assert _counts() == (0, 0, 0)


def test_a_file_for_an_unknown_account_is_refused_and_nothing_is_written(account, actor):
    # The camt file's second statement is of a USD account nobody set up.
    with pytest.raises(DomainError, match="CN77USD0000000000009"):
        _import(actor, "camt053_v02_two_statements.xml")
    assert _counts() == (0, 0, 0)


def test_a_file_of_another_account_than_the_one_chosen_is_refused(account, actor):
    other = BankAccount.objects.create(code="OTHER", name="Other", number="999", currency="CNY")
    with pytest.raises(DomainError, match="not of"):
        _import(actor, "icbc_gb18030_preamble_totals.csv", account=other)
    # An export that names no account needs one chosen.
    with pytest.raises(DomainError, match="choose the bank account"):
        _import(actor, "cmb_utf8_compact_dates.csv")
    assert _import(actor, "cmb_utf8_compact_dates.csv", account=other).imported == 3


def test_a_statement_in_another_currency_than_its_account_is_refused(db, actor):
    BankAccount.objects.create(code="CNY", name="Mis-set", number="CN77USD0000000000009", currency="CNY")
    BankAccount.objects.create(code="ICBC", name="ICBC", number="3100123456780001", currency="CNY")
    with pytest.raises(DomainError, match="USD"):
        _import(actor, "camt053_v02_two_statements.xml")
    assert _counts() == (0, 0, 0)


def test_size_limit_and_hostile_xml_are_refused_fast(account, actor, settings):
    settings.BANK_IMPORT_MAX_BYTES = 1024
    with pytest.raises(DomainError, match="too large"):
        _import(actor, "camt053_v02_two_statements.xml")
    settings.BANK_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    entities = "".join(f'<!ENTITY e{i} "&e{i - 1};&e{i - 1};&e{i - 1};&e{i - 1};">' for i in range(1, 12))
    bomb = f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY e0 "lol">{entities}]><Document>&e11;</Document>'
    started = time.monotonic()
    with pytest.raises(DomainError, match="DOCTYPE"):
        bank_file_import(raw=bomb.encode(), filename="bomb.xml", actor=actor)
    assert time.monotonic() - started < 1
    assert _counts() == (0, 0, 0)


def test_only_finance_may_import(account, make_user):
    with pytest.raises(PermissionRefused):
        _import(Actor.of(make_user("sales")), "icbc_gb18030_preamble_totals.csv")
    assert _counts() == (0, 0, 0)
    assert _import(Actor.system("import"), "icbc_gb18030_preamble_totals.csv").imported == 4


def test_a_long_statement_is_written_in_bulk_with_every_value_kept(account, actor):
    header = "交易日期,金额,对方户名,对方账号,摘要,流水号\n"
    rows = [f"2026-10-{1 + i % 28:02d},{i + 0.5:.2f},Payer {i},6222{i:06d},memo {i},R{i:05d}\n" for i in range(150)]
    summary = bank_file_import(raw=(header + "".join(rows)).encode(), filename="long.csv", actor=actor, account=account)
    assert summary.imported == 150
    line = BankStatementLine.objects.get(bank_ref="R00042")
    assert (line.amount, line.booking_date.isoformat(), line.counterparty_key, line.status) == (
        Decimal("42.50"),
        "2026-10-15",
        "6222000042",
        "unmatched",
    )
    # A later export that repeats the last 50 and brings 10 more.
    more = rows[100:] + [f"2026-11-01,{i}.00,New {i},1,x,N{i}\n" for i in range(10)]
    again = bank_file_import(raw=(header + "".join(more)).encode(), filename="long2.csv", actor=actor, account=account)
    assert (again.imported, again.skipped) == (10, 50)

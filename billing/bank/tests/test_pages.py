"""Finance's bank pages: upload with the summary, the statement, the reconciliation queue with accept,
split, combine, not a payment and undo; who may see and do what; zh-Hans; the command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from billing.bank.models import BankAccount, BankFileMapping, BankImport, BankStatementLine
from billing.bank.services import bank_file_import
from billing.models import Invoice
from config.actors import Actor
from customers.tests.factories import CustomerFactory
from tests.queries import assert_constant_queries, queries_for
from tests.submissions import with_token

from .conftest import FILES, issued_invoice

pytestmark = pytest.mark.django_db


def _upload(name: str, content: bytes | None = None):
    return SimpleUploadedFile(name, content if content is not None else (FILES / name).read_bytes())


def _import_rows(clerk, account, *rows: str):
    raw = ("交易日期,金额,对方户名,对方账号,摘要\n" + "".join(rows)).encode()
    summary = bank_file_import(raw=raw, filename="rows.csv", actor=Actor.of(clerk), account=account)
    return list(BankStatementLine.objects.filter(statement__bank_import=summary.bank_import).order_by("pk"))


def test_finance_uploads_a_file_and_sees_what_it_brought(client_as, account):
    invoice = issued_invoice(gross="11300.00", number="INV-2026-000123")
    client = client_as("finance")
    assert client.get(reverse("billing:bankstatement_import")).status_code == 200
    response = client.post(
        reverse("billing:bankstatement_import"),
        with_token({"file": _upload("icbc_gb18030_preamble_totals.csv"), "file_format": "auto", "mapping": ""}),
    )
    bank_import = BankImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("billing:bankimport_detail", args=[bank_import.pk])
    page = client.get(response["Location"]).content.decode()
    assert "4 lines imported, 0 already there, 1 matched automatically." in page
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == Decimal("11300.00")
    # The same file again: nothing added, and the user is told so.
    again = client.post(
        reverse("billing:bankstatement_import"),
        with_token({"file": _upload("icbc_gb18030_preamble_totals.csv"), "file_format": "auto", "mapping": ""}),
        follow=True,
    )
    assert "was imported before" in again.content.decode()
    assert BankStatementLine.objects.count() == 4 and BankImport.objects.count() == 1


def test_a_malformed_upload_is_refused_with_its_reason_and_nothing_written(client_as, account):
    client = client_as("finance")
    response = client.post(
        reverse("billing:bankstatement_import"),
        with_token({"file": _upload("bad.sta", b":20:X\r\n:25:1\r\n:61:261104C1.00NTRF\r\n"), "file_format": "mt940"}),
    )
    assert response.status_code == 422
    assert "cannot be imported" in response.content.decode()
    assert not BankImport.objects.exists() and not BankStatementLine.objects.exists()


def test_the_statement_page_warns_when_balances_do_not_add_up(client_as, clerk):
    BankAccount.objects.create(code="A", name="A", number="31001234567800 01", currency="CNY")
    BankAccount.objects.create(code="B", name="B", number="3100123456780002", currency="CNY")
    summary = bank_file_import(
        raw=(FILES / "camt053_v04_unbalanced_no_closing.xml").read_bytes(), filename="x.xml", actor=Actor.of(clerk)
    )
    client = client_as("finance")
    page = client.get(summary.statements[0].get_absolute_url()).content.decode()
    assert "The balances do not add up" in page and "difference 100.00" in page
    assert "Balances do not add up" in client.get(reverse("billing:bankstatement_list")).content.decode()


def test_the_queue_accepts_the_best_suggestion(client_as, account, clerk):
    invoice = issued_invoice(gross="500.00")
    # The payer is the customer by name, but pays less than the invoice: suggested, not applied.
    (line,) = _import_rows(clerk, account, f"2026-11-05,400.00,{invoice.customer.name},1,misc\n")
    client = client_as("finance")
    page = client.get(reverse("billing:bankline_queue")).content.decode()
    assert invoice.number in page and "Accept" in page
    suggestion = line.suggestions.get()
    response = client.post(reverse("billing:bankline_accept", args=[line.pk, suggestion.pk]), with_token({"next": "queue"}))
    assert response.status_code == 302 and response["Location"] == reverse("billing:bankline_queue")
    assert BankStatementLine.objects.get(pk=line.pk).status == "matched"
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == Decimal("400.00")
    assert "Every bank line is reconciled." in client.get(reverse("billing:bankline_queue")).content.decode()


def test_split_combine_ignore_and_undo_through_the_pages(client_as, account, clerk):
    customer = CustomerFactory()
    first, second = issued_invoice(customer, "300.00"), issued_invoice(customer, "700.00")
    split_line, part_a, part_b, fee = _import_rows(
        clerk,
        account,
        "2026-11-05,1000.00,Nobody,1,two invoices\n",
        "2026-11-06,100.00,Nobody,1,part\n",
        "2026-11-06,200.00,Nobody,1,part\n",
        "2026-11-06,-8.00,Bank,,fee\n",
    )
    client = client_as("finance")
    detail = client.get(split_line.get_absolute_url()).content.decode()
    assert "Pay several invoices" in detail
    response = client.post(
        reverse("billing:bankline_split", args=[split_line.pk]),
        with_token({"extra_invoice": first.number, "extra_amount": "300.00"}),
    )
    assert response.status_code == 302
    assert Invoice.objects.get(pk=first.pk).amount_paid == Decimal("300.00")
    # Two small lines pay the second invoice together.
    response = client.post(
        reverse("billing:bankline_combine"), with_token({"lines": [part_a.pk, part_b.pk], "invoice": second.number})
    )
    assert response.status_code == 302 and Invoice.objects.get(pk=second.pk).amount_paid == Decimal("300.00")
    # The fee is no customer payment.
    assert client.post(reverse("billing:bankline_ignore", args=[fee.pk]), with_token({"note": "fee"})).status_code == 302
    assert BankStatementLine.objects.get(pk=fee.pk).status == "ignored"
    # Undo asks first, then voids the payment.
    undo = reverse("billing:bankline_undo", args=[split_line.pk])
    assert "will be voided" in client.get(undo).content.decode()
    assert client.post(undo, with_token({"note": "wrong"})).status_code == 302
    assert Invoice.objects.get(pk=first.pk).amount_paid == Decimal("0.00")
    assert BankStatementLine.objects.get(pk=split_line.pk).status == "unmatched"


def test_a_split_over_the_line_amount_is_refused_on_the_form(client_as, account, clerk):
    invoice = issued_invoice(gross="900.00")
    (line,) = _import_rows(clerk, account, "2026-11-05,100.00,Nobody,1,x\n")
    response = client_as("finance").post(
        reverse("billing:bankline_split", args=[line.pk]), with_token({"extra_invoice": invoice.number, "extra_amount": "900.00"})
    )
    assert response.status_code == 422 and "more than the line brought" in response.content.decode()
    assert BankStatementLine.objects.get(pk=line.pk).status == "unmatched"


def test_finance_defines_a_column_mapping_and_an_account(client_as):
    client = client_as("finance")
    response = client.post(
        reverse("billing:bankmapping_create"),
        with_token({"name": "宁波银行", "col_booking_date": "记账日", "col_credit": "收入, 贷方金额", "col_debit": "支出"}),
    )
    assert response.status_code == 302
    mapping = BankFileMapping.objects.get()
    assert mapping.columns == {"booking_date": ["记账日"], "credit": ["收入", "贷方金额"], "debit": ["支出"]}
    response = client.post(
        reverse("billing:bankaccount_create"),
        with_token(
            {
                "code": "NB",
                "name": "宁波银行",
                "number": "6222-0000-1234",
                "currency": "cny",
                "file_mapping": mapping.pk,
                "is_active": "on",
            }
        ),
    )
    account = BankAccount.objects.get(code="NB")
    assert response.status_code == 302 and account.number_key == "622200001234" and account.currency == "CNY"
    refused = client.post(reverse("billing:bankmapping_create"), with_token({"name": "x", "col_booking_date": "日期"}))
    assert refused.status_code == 422 and "Name the amount column" in refused.content.decode()
    summary = bank_file_import(
        raw="记账日,收入,支出\n2026-11-05,10.00,\n".encode(), filename="nb.csv", actor=Actor.of(client.user), account=account
    )
    assert summary.imported == 1 and summary.bank_import.mapping_name == "宁波银行"


@pytest.mark.parametrize(
    ("role", "view_status", "import_status", "queue_status"),
    [("sales", 403, 403, 403), ("warehouse", 403, 403, 403), ("manager", 200, 403, 200), ("finance", 200, 200, 200)],
)
def test_who_may_see_and_do_what(client_as, role, view_status, import_status, queue_status):
    client = client_as(role)
    assert client.get(reverse("billing:bankstatement_list")).status_code == view_status
    assert client.get(reverse("billing:bankstatement_import")).status_code == import_status
    assert client.get(reverse("billing:bankline_queue")).status_code == queue_status


def test_a_manager_reads_but_cannot_reconcile(client_as, account, clerk):
    invoice = issued_invoice(gross="42.00")
    (line,) = _import_rows(clerk, account, f"2026-11-05,40.00,{invoice.customer.name},1,x\n")
    client = client_as("manager")
    assert "Accept" not in client.get(line.get_absolute_url()).content.decode()
    suggestion = line.suggestions.get()
    assert client.post(reverse("billing:bankline_accept", args=[line.pk, suggestion.pk]), with_token()).status_code == 403
    assert client.post(reverse("billing:bankline_ignore", args=[line.pk]), with_token()).status_code == 403
    assert BankStatementLine.objects.get(pk=line.pk).status == "unmatched"


def test_the_home_page_shows_finance_the_lines_to_match(client_as, account, clerk):
    _import_rows(clerk, account, "2026-11-05,66.00,Payer Ltd,1,x\n")
    page = client_as("finance").get(reverse("home")).content.decode()
    assert "Bank lines to match" in page and "Payer Ltd" in page
    assert "Bank lines to match" not in client_as("sales").get(reverse("home")).content.decode()


def test_pages_in_chinese(client_as, account, clerk, settings):
    _import_rows(clerk, account, "2026-11-05,66.00,Payer Ltd,1,x\n")
    client = client_as("finance")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "银行对账单" in client.get(reverse("billing:bankstatement_list")).content.decode()
    assert "待匹配的银行对账单明细" in client.get(reverse("billing:bankline_queue")).content.decode()


def test_the_command_imports_and_says_what_it_did(account, clerk):
    issued_invoice(gross="11300.00", number="INV-2026-000123")
    out = StringIO()
    call_command("import_bank_statement", str(FILES / "icbc_gb18030_preamble_totals.csv"), stdout=out)
    assert "imported: 4" in out.getvalue() and "skipped: 0" in out.getvalue() and "matched: 1" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(FILES / "icbc_gb18030_preamble_totals.csv"), "--account", "ICBC", stdout=out)
    assert "Already imported" in out.getvalue() and "imported: 0" in out.getvalue() and "skipped: 4" in out.getvalue()
    with pytest.raises(CommandError, match="cannot be imported"):
        call_command("import_bank_statement", str(FILES / "cmb_utf8_compact_dates.csv"), "--format", "mt940", "--account", "ICBC")
    with pytest.raises(CommandError, match="No bank account"):
        call_command("import_bank_statement", str(FILES / "cmb_utf8_compact_dates.csv"), "--account", "NOPE")
    assert BankImport.objects.count() == 1


def test_an_upload_with_many_exact_matches_leaves_them_to_a_worker(
    client_as, account, settings, django_capture_on_commit_callbacks
):
    settings.BANK_AUTO_APPLY_INLINE = 0
    invoice = issued_invoice(gross="11300.00", number="INV-2026-000123")
    client = client_as("finance")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("billing:bankstatement_import"),
            with_token({"file": _upload("icbc_gb18030_preamble_totals.csv"), "file_format": "auto", "mapping": ""}),
            follow=True,
        )
    assert "1 exact matches are being recorded as payments in the background." in response.content.decode()
    # The worker (eager here) applied it after the upload committed.
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == Decimal("11300.00")
    assert BankImport.objects.get().matched_count == 1


def test_the_queue_and_a_statement_page_take_the_same_queries_for_few_or_many_lines(client_as, account, clerk):
    client = client_as("finance")
    customer = CustomerFactory(name="Many Lines Ltd")
    issued_invoice(customer, "999.00")
    made = {"n": 0}

    def make_rows(n):
        rows = [
            f"2026-11-{1 + (made['n'] + i) % 28:02d},{10 + made['n'] + i}.00,Many Lines Ltd,1,row {made['n'] + i}\n"
            for i in range(n)
        ]
        made["n"] += n
        return _import_rows(clerk, account, *rows)

    statements = []
    assert_constant_queries(
        lambda n: statements.append(make_rows(n)[0].statement),
        lambda: client.get(reverse("billing:bankline_queue")),
        sizes=(2, 12),
    )
    counts = {queries_for(lambda s=s: client.get(s.get_absolute_url())) for s in statements}
    assert len(counts) == 1, counts


@pytest.mark.parametrize("data", [{}, {"extra_invoice": "", "extra_amount": ""}, {"note": ""}, {"extra_amount": "abc"}])
def test_an_empty_or_garbled_split_or_ignore_is_a_form_error_not_a_server_error(client_as, account, clerk, data):
    invoice = issued_invoice(gross="100.00")
    incoming, outgoing, matched = _import_rows(
        clerk,
        account,
        "2026-11-05,100.00,Nobody,1,x\n",
        "2026-11-06,-8.00,Bank,,fee\n",
        f"2026-11-07,100.00,Somebody,2,{invoice.number}\n",
    )
    client = client_as("finance")
    for line in (incoming, outgoing, matched):
        for name in ("billing:bankline_split", "billing:bankline_ignore"):
            response = client.post(reverse(name, args=[line.pk]), with_token(dict(data)))
            assert response.status_code in (302, 422), (name, line.amount, response.status_code)

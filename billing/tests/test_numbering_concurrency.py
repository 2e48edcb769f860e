"""Twenty clerks issue invoices at the same moment, some of whose transactions roll back after
taking a number: the numbers issued have no hole and no duplicate (real threads, PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from billing.credit_notes.services import CreditRequest, credit_note_draft, credit_note_issue
from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from billing.models import CreditNote, Invoice
from billing.tests.factories import finance_user, issued_invoice, shipped_order
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]


class RolledBack(Exception):
    """The clerk's transaction failed after the invoice took its number."""


@pytest.fixture
def no_documents_after_commit(settings):
    """Numbering is under test here: the PDF and e-mail handlers stay out of the threads."""
    settings.OUTBOX_HANDLERS = {
        topic: paths for topic, paths in settings.OUTBOX_HANDLERS.items() if not topic.startswith("billing.")
    }


def _issue_job(invoice_id: int, user, *, roll_back: bool):
    def job():
        with transaction.atomic():
            invoice_issue(invoice=Invoice.objects.get(pk=invoice_id), by=user)
            if roll_back:
                raise RolledBack

    return job


def _assert_gapless(numbers: list[str], prefix: str) -> None:
    year = timezone.localdate().year
    assert len(numbers) == len(set(numbers)), "a number was handed out twice"
    assert sorted(numbers) == [f"{prefix}-{year}-{n:06d}" for n in range(1, len(numbers) + 1)], "a hole in the numbers"


def test_twenty_concurrent_issues_with_rollbacks_leave_no_hole_and_no_duplicate(no_documents_after_commit):
    finance = finance_user()
    drafts = [invoice_draft_from_orders(orders=[shipped_order()], by=finance).invoice for _ in range(20)]
    roll_back = {invoice.pk for index, invoice in enumerate(drafts) if index % 4 == 1}  # five of them

    errors = run_together([_issue_job(invoice.pk, finance, roll_back=invoice.pk in roll_back) for invoice in drafts])

    assert len(errors) == 5 and all(isinstance(error, RolledBack) for error in errors)
    issued = list(Invoice.objects.filter(status="issued").values_list("pk", "number"))
    assert {pk for pk, _number in issued} == {invoice.pk for invoice in drafts} - roll_back
    _assert_gapless([number for _pk, number in issued], "INV")
    assert not Invoice.objects.filter(pk__in=roll_back).exclude(number=None).exists()

    # The rolled-back drafts are issued afterwards and continue the sequence.
    for pk in sorted(roll_back):
        invoice_issue(invoice=Invoice.objects.get(pk=pk), by=finance)
    _assert_gapless(list(Invoice.objects.values_list("number", flat=True)), "INV")


def test_concurrent_credit_notes_never_take_back_more_than_the_invoice(no_documents_after_commit):
    finance = finance_user()
    invoice = issued_invoice(by=finance, quantity=10)
    line = invoice.lines.get()
    # Ten drafts of 2 units each: only five fit the 10 units invoiced.
    drafts = [
        credit_note_draft(invoice=invoice, reason="sales_return", by=finance, requests=[CreditRequest(line.pk, quantity=2)])
        for _ in range(10)
    ]

    def job(pk):
        return lambda: credit_note_issue(credit_note=CreditNote.objects.get(pk=pk), by=finance)

    errors = run_together([job(note.pk) for note in drafts])

    assert len(errors) == 5 and all(getattr(error, "code", "") == "over_credit" for error in errors)
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total_gross
    _assert_gapless(list(CreditNote.objects.filter(status="issued").values_list("number", flat=True)), "CN")

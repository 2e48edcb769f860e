"""Demo receivables: a statement the customer disputed through its link, and the payment reminders
of the dunning run, all through the services. Running it again adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from billing.dunning.models import PaymentReminder
from billing.dunning.services import dunning_run
from billing.models import Invoice
from billing.statements.models import CustomerStatement, StatementToken
from billing.statements.services import statement_create, statement_respond, statement_send
from config.actors import Actor
from config.errors import DomainError

DISPUTE_COMMENT = "发票 {number} 的金额与我方记录不符，请核对。 The amount of invoice {number} differs from our books."


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _disputed_statement(finance, stdout) -> CustomerStatement | None:
    """This month's statement of a customer with an invoice and an e-mail address, sent and disputed."""
    invoice = (
        Invoice.objects.issued().filter(customer__email__gt="").select_related("customer").order_by("issued_at", "pk").first()
    )
    if invoice is None:
        _say(stdout, "Receivables demo: no issued invoice of a customer with an e-mail address; no statement.")
        return None
    today = timezone.localdate()
    start = min(today.replace(day=1), timezone.localdate(invoice.issued_at))
    with transaction.atomic():
        statement = statement_create(customer=invoice.customer, period_start=start, period_end=today, by=finance)
        statement = statement_send(statement=statement, by=finance)
    token = StatementToken.objects.get(statement=statement).token
    return statement_respond(token=token, answer="dispute", comment=DISPUTE_COMMENT.format(number=invoice.number))


def _reminders(stdout) -> int:
    """Run dunning today; with nothing overdue yet (demo invoices are new), as of the day the oldest
    open invoice reaches the first level, so the reminders page has letters to show."""
    result = dunning_run(actor=Actor.system("demo"))
    if result.reminders:
        return len(result.reminders)
    oldest = Invoice.objects.open().exclude(due_date__isnull=True).order_by("due_date").values_list("due_date", flat=True).first()
    if oldest is None:
        return 0
    return len(dunning_run(on=oldest + timedelta(days=31), actor=Actor.system("demo")).reminders)


def seed(*, users, stdout=None) -> None:
    """A disputed statement and the reminders of a dunning run."""
    finance = users.get("finance")
    if finance is None or CustomerStatement.objects.exists() or PaymentReminder.objects.exists():
        return
    try:
        statement = _disputed_statement(finance, stdout)
    except DomainError as error:
        statement = None
        _say(stdout, f"Receivables demo: no statement ({error}).")
    reminders = _reminders(stdout)
    _say(stdout, f"Receivables demo: {'a disputed statement, ' if statement else ''}{reminders} payment reminder(s).")

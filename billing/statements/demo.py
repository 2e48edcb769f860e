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
from customers.models import Customer

DISPUTE_COMMENT = "发票 {number} 的金额与我方记录不符，请核对。 The amount of invoice {number} differs from our books."
DISPUTE_COMMENT_NO_INVOICE = "我方上月已付款，对账单上没有显示。 We paid last month; the statement does not show it."


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _disputed_statement(finance, stdout) -> CustomerStatement | None:
    """This month's statement of a customer with an e-mail address (one with invoices if there is
    one), sent, and disputed through its link."""
    today = timezone.localdate()
    start = today.replace(day=1)
    invoice = (
        Invoice.objects.issued().filter(customer__email__gt="").select_related("customer").order_by("issued_at", "pk").first()
    )
    if invoice is not None:
        customer, reference = invoice.customer, invoice.number
        start = min(start, timezone.localdate(invoice.issued_at))
    else:
        customer = Customer.objects.filter(email__gt="").order_by("pk").first()
        reference = ""
    if customer is None:
        _say(stdout, "Receivables demo: no customer with an e-mail address; no statement.")
        return None
    with transaction.atomic():
        statement = statement_create(customer=customer, period_start=start, period_end=today, by=finance)
        statement = statement_send(statement=statement, by=finance)
    token = StatementToken.objects.get(statement=statement).token
    comment = DISPUTE_COMMENT.format(number=reference) if reference else DISPUTE_COMMENT_NO_INVOICE
    return statement_respond(token=token, answer="dispute", comment=comment)


def _reminders(stdout) -> int:
    """Run dunning today; with nothing overdue yet (demo invoices are new), the run of the day the
    oldest open invoice is a month overdue, so the reminders page has letters to show."""
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

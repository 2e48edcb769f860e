"""Outbox handlers of statements: run after the sending transaction committed; safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.utils import translation

from billing.statements.models import CustomerStatement, StatementEvent
from billing.statements.services import statement_public_url
from config.actors import Actor
from config.documents import company_letterhead

TEMPLATE = "statement_sent"


def email_statement(payload: dict) -> None:
    """A statement was sent: e-mail it (PDF attached, with the link to confirm or dispute) in the customer's language, once."""
    statement_email(statement_id=payload["id"])


def statement_email(*, statement_id: int) -> bool:
    """Send the statement's e-mail once (its timeline records it); False when there is nothing to send."""
    statement = CustomerStatement.objects.select_related("customer").filter(pk=statement_id).first()
    if statement is None or statement.sent_at is None or not statement.email:
        return False
    if statement.events.filter(kind=StatementEvent.Kind.EMAIL).exists():
        return False
    link = statement_public_url(statement=statement)
    if not link:  # withdrawn or revoked before the e-mail went out
        return False
    customer = statement.customer
    context = {"statement": statement, "customer": customer, "link": link, "company": company_letterhead()}
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"billing/email/{TEMPLATE}_subject.txt", context).strip()
        body = render_to_string(f"billing/email/{TEMPLATE}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[statement.email])
    if statement.pdf:
        with statement.pdf.open("rb") as pdf:
            message.attach(f"statement-{customer.code}-{statement.period_end:%Y%m}.pdf", pdf.read(), "application/pdf")
    mailers.default.send_messages([message])
    StatementEvent.record(
        statement, kind=StatementEvent.Kind.EMAIL, actor=Actor.system("system"), params={"email": statement.email}
    )
    return True

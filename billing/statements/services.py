"""Customer statements: made from the customer's account for a period, sent with an unguessable link
(the PDF stored once, with its SHA-256), answered once by the customer through that link, withdrawn
by finance; and the monthly run that sends last month's statements to every customer with activity.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.statements.documents import statement_pdf
from billing.statements.models import (
    LIVE_STATES,
    SEND_STATEMENT_PERMISSION,
    CustomerStatement,
    StatementEvent,
    StatementState,
    StatementToken,
)
from billing.statements.selectors import customers_with_activity, statement_figures
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.transitions import transition_apply
from customers.models import Customer
from customers.services import customer_lock

logger = logging.getLogger(__name__)

COMMENT_MAX = 2000
NOTE_MAX = 500
# A statement's period may reach back this far and no further (one statement, not a ledger dump).
LONGEST_PERIOD_DAYS = 366


def _actor(by, permission: str) -> Actor:
    actor = Actor.of(by)
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))
    return actor


def _check_period(period_start: date, period_end: date) -> None:
    if period_start > period_end:
        raise DomainError(_("The period must start before it ends."), field="period_start")
    if period_end > timezone.localdate():
        raise DomainError(_("A statement covers days that have passed: end the period today or earlier."), field="period_end")
    if (period_end - period_start).days >= LONGEST_PERIOD_DAYS:
        raise DomainError(_("A statement covers at most a year."), field="period_start")


def _fill(statement: CustomerStatement) -> None:
    figures = statement_figures(customer=statement.customer, period_start=statement.period_start, period_end=statement.period_end)
    for name in ("opening_balance", "invoiced", "credited", "paid", "refunded", "written_off", "delivered_not_invoiced"):
        setattr(statement, name, getattr(figures, name))
    statement.closing_balance = figures.closing_balance
    statement.entries = figures.entries
    statement.uninvoiced = figures.uninvoiced
    statement.ageing = figures.ageing


@transaction.atomic
def statement_create(*, customer: Customer, period_start: date, period_end: date, by, monthly: bool = False) -> CustomerStatement:
    """A draft statement of the customer's account for the period, its figures taken now; refused
    when the customer already has one for that period that is not withdrawn."""
    actor = _actor(by, SEND_STATEMENT_PERMISSION)
    _check_period(period_start, period_end)
    customer = customer_lock(customer_id=customer.pk)  # two clicks, or the monthly run and a clerk: one statement
    existing = CustomerStatement.objects.filter(
        customer=customer, period_start=period_start, period_end=period_end, state__in=LIVE_STATES
    ).first()
    if existing is not None:
        raise DomainError(
            _("%(customer)s already has a statement for this period (%(state)s).")
            % {"customer": customer.name, "state": existing.get_state_display()},
            code="statement_exists",
            params={"id": existing.pk},
        )
    statement = CustomerStatement(
        customer=customer,
        period_start=period_start,
        period_end=period_end,
        currency=settings.CURRENCY,
        created_by=actor.user_or_none,
    )
    _fill(statement)
    statement.save()
    StatementEvent.record(statement, kind=StatementEvent.Kind.CREATED, actor=actor, params={"monthly": True} if monthly else {})
    return statement


def statement_public_url(*, statement: CustomerStatement) -> str:
    """The absolute link of the statement's page, or "" when it has no working link."""
    token = StatementToken.objects.filter(statement=statement, revoked_at__isnull=True).first()
    if token is None:
        return ""
    return settings.SITE_URL + reverse("billing:statement_public", args=[token.token])


@transaction.atomic
def statement_send(*, statement: CustomerStatement, by) -> CustomerStatement:
    """Send a draft: its PDF is rendered in the customer's language and stored once (with its SHA-256),
    it gets its link (≥128 random bits), and the e-mail goes out after commit."""
    actor = _actor(by, SEND_STATEMENT_PERMISSION)
    locked = CustomerStatement.objects.select_for_update(of=("self",)).select_related("customer").get(pk=statement.pk)
    customer = locked.customer
    if locked.state != StatementState.DRAFT:
        raise DomainError(_("Only a draft statement can be sent."), code="transition_not_allowed")
    if not customer.email:
        raise DomainError(
            _("%(customer)s has no e-mail address: add one on the customer's page, or print the statement.")
            % {"customer": customer.name},
            code="no_email",
        )
    StatementToken.objects.create(statement=locked, token=secrets.token_urlsafe(24))
    locked.email = customer.email
    locked = transition_apply(obj=locked, transition="send", actor=actor, kind=StatementEvent.Kind.SEND, lock=False)
    pdf = statement_pdf(statement=locked, language=customer.language)
    locked.pdf.save(f"statement-{customer.code}-{locked.period_end:%Y%m%d}-{locked.pk}.pdf", ContentFile(pdf), save=False)
    locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    locked.save(update_fields=["pdf", "pdf_sha256", "email"])
    return locked


# What the customer may answer through the link.
CONFIRM, DISPUTE = "confirm", "dispute"


def statement_for_token(token: str) -> CustomerStatement | None:
    """The statement a working link opens (None: unknown, revoked, or its statement withdrawn)."""
    found = (
        StatementToken.objects.select_related("statement__customer")
        .filter(token=token, revoked_at__isnull=True)
        .exclude(statement__state=StatementState.WITHDRAWN)
        .first()
    )
    return found.statement if found else None


@transaction.atomic
def statement_respond(*, token: str, answer: str, comment: str = "") -> CustomerStatement:
    """The customer confirms or disputes the statement through its link, once; a dispute says why."""
    comment = (comment or "").strip()
    if answer not in (CONFIRM, DISPUTE):
        raise DomainError(_("Choose whether you confirm or dispute the statement."), field="answer")
    if answer == DISPUTE and not comment:
        raise DomainError(_("Tell us what is wrong with the statement."), field="comment")
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("Keep the comment under %(n)s characters.") % {"n": COMMENT_MAX}, field="comment")
    link = (
        StatementToken.objects.select_for_update()
        .filter(token=token, revoked_at__isnull=True)
        .exclude(statement__state=StatementState.WITHDRAWN)
        .first()
    )
    if link is None:
        raise DomainError(_("This link does not work any more."), code="not_found")
    if link.used_at is not None:
        raise DomainError(_("This statement was already answered."), code="already_answered")
    statement = CustomerStatement.objects.select_for_update(of=("self",)).get(pk=link.statement_id)
    if statement.state != StatementState.SENT:
        raise DomainError(_("This statement was already answered."), code="already_answered")
    statement.customer_comment = comment
    kind = StatementEvent.Kind.CONFIRM if answer == CONFIRM else StatementEvent.Kind.DISPUTE
    statement = transition_apply(
        obj=statement,
        transition=answer,
        actor=Actor.system("statement_link"),
        kind=kind,
        note=comment,
        params={"via": "link"},
        lock=False,
    )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return statement


@transaction.atomic
def statement_withdraw(*, statement: CustomerStatement, by, note: str = "") -> CustomerStatement:
    """Finance takes a statement back (a corrected one may then be made for the period); its link stops working."""
    actor = _actor(by, SEND_STATEMENT_PERMISSION)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(_("Keep the note under %(n)s characters.") % {"n": NOTE_MAX}, field="note")
    locked = transition_apply(obj=statement, transition="withdraw", actor=actor, kind=StatementEvent.Kind.WITHDRAW, note=note)
    StatementToken.objects.filter(statement=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return locked


@transaction.atomic
def statement_link_revoke(*, statement: CustomerStatement, by) -> int:
    """The statement's link stops working at once (e.g. the e-mail went to the wrong person)."""
    actor = _actor(by, SEND_STATEMENT_PERMISSION)
    revoked = StatementToken.objects.filter(statement=statement, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        StatementEvent.record(statement, kind=StatementEvent.Kind.LINK_REVOKED, actor=actor)
    return revoked


def previous_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before `today`'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


@dataclass
class MonthlyRun:
    made: list[CustomerStatement] = field(default_factory=list)
    sent: int = 0
    left_as_draft: int = 0


def monthly_statements_send(*, today: date | None = None, actor: Actor | None = None) -> MonthlyRun:
    """Make and send last month's statement to every customer with activity in it. A customer who
    already has one for the month is skipped, so running twice sends once; a customer without an
    e-mail address keeps a draft for finance to print."""
    period_start, period_end = previous_month(today or timezone.localdate())
    actor = actor or Actor.system("system")
    result = MonthlyRun()
    for customer in customers_with_activity(period_start=period_start, period_end=period_end):
        try:
            with transaction.atomic():
                statement = statement_create(
                    customer=customer, period_start=period_start, period_end=period_end, by=actor, monthly=True
                )
        except (DomainError, IntegrityError) as refused:  # already made (by hand, or by a run before)
            logger.info("monthly statements: %s skipped: %s", customer.code, refused)
            continue
        result.made.append(statement)
        if not customer.email:
            result.left_as_draft += 1
            continue
        try:
            statement_send(statement=statement, by=actor)
        except DomainError as refused:
            logger.warning("monthly statements: %s not sent: %s", customer.code, refused)
            result.left_as_draft += 1
            continue
        result.sent += 1
    return result

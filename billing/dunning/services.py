"""Dunning: the daily run that reminds customers of their overdue invoices, level by level, puts
them on credit hold where a level says so, and releases the hold once the overdue invoices are paid.

Every step is safe to run twice: an invoice is reminded at most once per level (a unique
constraint, checked again under the customer's row lock), a customer has at most one active hold.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.dunning.models import CreditHold, DunningLevel, PaymentReminder, PaymentReminderLine
from billing.models import Invoice
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.money import ZERO
from config.outbox import outbox_publish
from customers.models import Customer, CustomerEvent
from customers.services import customer_lock, customer_record_billing_event

logger = logging.getLogger(__name__)

LEVEL_PERMISSION = "billing.change_dunninglevel"
RELEASE_PERMISSION = "billing.release_credithold"
REMINDER_CREATED = "billing.payment_reminder_created"
NOTE_MAX = 300


@dataclass
class DunningRun:
    """What one run did."""

    reminders: list[PaymentReminder] = field(default_factory=list)
    holds_placed: int = 0
    holds_released: int = 0


@dataclass(frozen=True)
class _Due:
    invoice_id: int
    customer_id: int
    due_date: date
    open_amount: Decimal


def active_levels() -> list[DunningLevel]:
    return list(DunningLevel.objects.filter(active=True).order_by("days_after_due", "pk"))


def level_reached(levels: list[DunningLevel], days_overdue: int) -> DunningLevel | None:
    """The highest active level an invoice this many days past due has reached (None: none yet)."""
    reached = None
    for level in levels:
        if days_overdue >= level.days_after_due:
            reached = level
    return reached


def _due_invoices(*, on: date, first_days: int) -> list[_Due]:
    rows = (
        Invoice.objects.open()
        .filter(due_date__lte=on - timedelta(days=first_days))
        .annotate(open_amount=F("total_gross") - F("amount_credited") - F("amount_paid"))
        .values_list("pk", "customer_id", "due_date", "open_amount")
        .order_by("customer_id", "due_date", "pk")
    )
    return [_Due(*row) for row in rows]


def _reminded(invoice_ids: list[int]) -> dict[int, int]:
    """The most days-after-due level each invoice was already reminded at."""
    reached: dict[int, int] = {}
    lines = PaymentReminderLine.objects.filter(invoice_id__in=invoice_ids).values_list("invoice_id", "level__days_after_due")
    for invoice_id, days in lines:
        reached[invoice_id] = max(days, reached.get(invoice_id, 0))
    return reached


def dunning_plan(*, on: date) -> dict[tuple[int, int], list[_Due]]:
    """(customer, level) → the invoices that reached that level on `on` and were not reminded at it
    (or a later one) yet. Reads only; the run acts on it customer by customer."""
    levels = active_levels()
    if not levels:
        return {}
    due = _due_invoices(on=on, first_days=levels[0].days_after_due)
    reminded = _reminded([d.invoice_id for d in due])
    plan: dict[tuple[int, int], list[_Due]] = defaultdict(list)
    for item in due:
        level = level_reached(levels, (on - item.due_date).days)
        if level is None or reminded.get(item.invoice_id, 0) >= level.days_after_due:
            continue
        plan[(item.customer_id, level.pk)].append(item)
    return dict(plan)


def _remind(
    *, customer_id: int, level: DunningLevel, items: list[_Due], on: date, actor: Actor
) -> tuple[PaymentReminder | None, CreditHold | None]:
    """One reminder of one customer at one level, in one transaction under the customer's row lock."""
    customer = customer_lock(customer_id=customer_id)
    # Another run may have reminded them since the plan was read: keep only what is still due a letter.
    still = set(
        Invoice.objects.open()
        .filter(pk__in=[i.invoice_id for i in items])
        .exclude(reminder_lines__level__days_after_due__gte=level.days_after_due)
        .values_list("pk", flat=True)
    )
    items = [i for i in items if i.invoice_id in still]
    if not items:
        return None, None
    amount = sum((i.open_amount for i in items), ZERO)
    reminder = PaymentReminder.objects.create(
        customer=customer,
        level=level,
        kind=level.kind,
        run_date=on,
        amount_overdue=amount,
        invoice_count=len(items),
        puts_on_hold=level.credit_hold,
        email=customer.email,
    )
    PaymentReminderLine.objects.bulk_create(
        [
            PaymentReminderLine(
                reminder=reminder,
                invoice_id=i.invoice_id,
                level=level,
                due_date=i.due_date,
                days_overdue=(on - i.due_date).days,
                open_amount=i.open_amount,
            )
            for i in items
        ]
    )
    customer_record_billing_event(
        customer=customer,
        kind=CustomerEvent.Kind.PAYMENT_REMINDER,
        params={
            "reminder": reminder.pk,
            "letter": level.kind,
            "count": len(items),
            "amount": str(amount),
            "currency": reminder.currency,
        },
        by=actor,
    )
    outbox_publish(topic=REMINDER_CREATED, payload={"id": reminder.pk})
    hold = credit_hold_place(customer=customer, level=level, reminder=reminder, by=actor) if level.credit_hold else None
    return reminder, hold


def credit_hold_place(
    *, customer: Customer, level: DunningLevel, reminder: PaymentReminder | None, by: Actor
) -> CreditHold | None:
    """Put the customer on credit hold (none if it already is); its new orders go to review."""
    if CreditHold.objects.filter(customer=customer, released_at__isnull=True).exists():
        return None
    hold = CreditHold.objects.create(customer=customer, level=level, reminder=reminder, days_after_due=level.days_after_due)
    customer_record_billing_event(
        customer=customer,
        kind=CustomerEvent.Kind.CREDIT_HOLD,
        params={"hold": hold.pk, "letter": level.kind, "days": level.days_after_due},
        by=by,
    )
    return hold


def active_hold(*, customer_id: int) -> CreditHold | None:
    return CreditHold.objects.filter(customer_id=customer_id, released_at__isnull=True).select_related("level").first()


def hold_still_needed(hold: CreditHold, *, on: date | None = None) -> bool:
    """A hold stays while any invoice of the customer is open and at least its level's days past due."""
    on = on or timezone.localdate()
    return (
        Invoice.objects.open()
        .filter(customer_id=hold.customer_id, due_date__lte=on - timedelta(days=hold.days_after_due))
        .exists()
    )


def _release(hold: CreditHold, *, because: str, actor: Actor, note: str = "") -> CreditHold:
    hold.released_at = timezone.now()
    hold.release = because
    hold.released_by = actor.user_or_none
    hold.release_note = note
    hold.save(update_fields=["released_at", "release", "released_by", "release_note"])
    customer_record_billing_event(
        customer=hold.customer,
        kind=CustomerEvent.Kind.CREDIT_HOLD_RELEASED,
        params={"hold": hold.pk, "because": because},
        by=actor,
        note=note,
    )
    return hold


@transaction.atomic
def credit_hold_release_if_paid(*, customer_id: int, on: date | None = None) -> CreditHold | None:
    """Release the customer's hold when its overdue invoices are paid (or credited); None when it stays."""
    customer_lock(customer_id=customer_id)
    hold = CreditHold.objects.select_for_update().filter(customer_id=customer_id, released_at__isnull=True).first()
    if hold is None or hold_still_needed(hold, on=on):
        return None
    return _release(hold, because=CreditHold.Release.PAID, actor=Actor.system("system"))


@transaction.atomic
def credit_hold_release(*, hold: CreditHold, by, note: str) -> CreditHold:
    """Finance lifts a hold by hand (e.g. a promise to pay), saying why; a later invoice at a hold level holds again."""
    actor = Actor.of(by)
    if not actor.has_perm(RELEASE_PERMISSION):
        raise PermissionRefused(_("You are not allowed to release credit holds."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say why the hold is released."), field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(_("Keep the note under %(n)s characters.") % {"n": NOTE_MAX}, field="note")
    customer_lock(customer_id=hold.customer_id)
    locked = CreditHold.objects.select_for_update().select_related("customer").get(pk=hold.pk)
    if locked.released_at is not None:
        raise DomainError(_("This credit hold was already released."), code="already_released")
    return _release(locked, because=CreditHold.Release.MANUAL, actor=actor, note=note)


def dunning_run(*, on: date | None = None, actor: Actor | None = None) -> DunningRun:
    """Remind every customer with invoices that reached a level today, place the holds the levels
    ask for, and release the holds whose invoices were paid. Each customer in its own transaction."""
    on = on or timezone.localdate()
    actor = actor or Actor.system("dunning")
    result = DunningRun()
    levels = {level.pk: level for level in active_levels()}
    for (customer_id, level_id), items in sorted(dunning_plan(on=on).items()):
        try:
            with transaction.atomic():
                reminder, hold = _remind(customer_id=customer_id, level=levels[level_id], items=items, on=on, actor=actor)
        except IntegrityError:  # a concurrent run reminded the same invoice at the same level first
            logger.info("dunning: customer %s level %s was reminded by another run", customer_id, level_id)
            continue
        if reminder is not None:
            result.reminders.append(reminder)
            result.holds_placed += hold is not None
    for customer_id in CreditHold.objects.filter(released_at__isnull=True).values_list("customer_id", flat=True):
        if credit_hold_release_if_paid(customer_id=customer_id, on=on) is not None:
            result.holds_released += 1
    return result


@transaction.atomic
def dunning_level_update(*, level: DunningLevel, data: dict, by) -> DunningLevel:
    """Finance or a manager changes a level's days, letter switch or credit hold; later runs use it."""
    actor = Actor.of(by)
    if not actor.has_perm(LEVEL_PERMISSION):
        raise PermissionRefused(_("You are not allowed to change the dunning levels."))
    locked = DunningLevel.objects.select_for_update().get(pk=level.pk)
    for name in ("days_after_due", "credit_hold", "active"):
        if name in data:
            setattr(locked, name, data[name])
    if DunningLevel.objects.exclude(pk=locked.pk).filter(days_after_due=locked.days_after_due).exists():
        raise DomainError(_("Another level already starts on that day."), field="days_after_due")
    locked.updated_by = actor.user_or_none
    locked.save()
    return locked

"""Why an order is at risk: the reasons the queue checks, as conditions on the cycle snapshot, and
their sentences, worded when shown in the reader's language.

The conditions are evaluated when the queue is read (against today and now, the per-state limits and the
customers' credit holds), so an order becomes late or stuck without any event; the snapshot only has to
hold the times and dates they compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import Case, DateTimeField, Q, Value, When
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.dunning.models import CreditHold
from orders.models import OrderStatus

from .models import LIMITED_STATES, OrderCycle, RiskLimits

S = OrderStatus
# Not delivered yet: a requested date in the past makes these late.
NOT_DELIVERED = [S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED, S.SHIPPED]
# Goods not all gone yet: a customer's credit hold may keep them back.
NOT_ALL_SHIPPED = [S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED]


class RiskReason(models.TextChoices):
    LATE = "late", _("Late against the requested date")
    STUCK = "stuck", _("Stuck in a state")
    CREDIT_HOLD = "credit_hold", _("Credit hold")
    DELIVERY_EXCEPTION = "delivery_exception", _("Open delivery exception")
    PAST_DUE = "past_due", _("Unpaid past due")


@dataclass(frozen=True)
class RiskClock:
    """What the conditions compare against: today, now, the limits and the customers on credit hold."""

    today: date
    now: datetime
    limits: dict[str, int]
    holds: dict[int, datetime]  # customer id -> placed at

    @classmethod
    def current(cls) -> RiskClock:
        holds = dict(CreditHold.objects.filter(released_at__isnull=True).values_list("customer_id", "placed_at"))
        return cls(today=timezone.localdate(), now=timezone.now(), limits=RiskLimits.current().hours(), holds=holds)

    def condition(self, reason: str) -> Q:
        """The rows at risk for this reason."""
        if reason == RiskReason.LATE:
            return Q(requested_date__lt=self.today, status__in=NOT_DELIVERED)
        if reason == RiskReason.STUCK:
            if not self.limits:
                return Q(pk__in=[])
            # One comparison a row: since < now − the limit of the row's own state (no limit: NULL, never true).
            deadline = Case(
                *[When(status=state, then=Value(self.now - timedelta(hours=hours))) for state, hours in self.limits.items()],
                default=Value(None),
                output_field=DateTimeField(),
            )
            return Q(status_since__lt=deadline)
        if reason == RiskReason.CREDIT_HOLD:
            return Q(credit_review=True) | Q(customer_id__in=list(self.holds), status__in=NOT_ALL_SHIPPED)
        if reason == RiskReason.DELIVERY_EXCEPTION:
            return Q(exception_since__isnull=False)
        if reason == RiskReason.PAST_DUE:
            return Q(payment_due__lt=self.today)
        raise ValueError(reason)

    def any_condition(self, reasons: list[str] | None = None) -> Q:
        at_risk = Q(pk__in=[])
        for reason in reasons or RiskReason.values:
            at_risk |= self.condition(reason)
        return at_risk

    def reasons_of(self, cycle: OrderCycle) -> list[RiskNote]:
        """Why this row is at risk, in the order of the RiskReason choices (checked in Python on the page's rows)."""
        notes = []
        if cycle.requested_date and cycle.requested_date < self.today and cycle.status in NOT_DELIVERED:
            notes.append(
                RiskNote(RiskReason.LATE, {"date": cycle.requested_date, "days": (self.today - cycle.requested_date).days})
            )
        limit = self.limits.get(cycle.status)
        if limit is not None and cycle.status_since < self.now - timedelta(hours=limit):
            hours = int((self.now - cycle.status_since).total_seconds() // 3600)
            notes.append(RiskNote(RiskReason.STUCK, {"state": cycle.status, "hours": hours, "limit": limit}))
        if cycle.credit_review:
            notes.append(RiskNote(RiskReason.CREDIT_HOLD, {"review": True}))
        elif cycle.customer_id in self.holds and cycle.status in NOT_ALL_SHIPPED:
            notes.append(RiskNote(RiskReason.CREDIT_HOLD, {"since": timezone.localdate(self.holds[cycle.customer_id])}))
        if cycle.exception_since is not None:
            notes.append(RiskNote(RiskReason.DELIVERY_EXCEPTION, {"since": timezone.localdate(cycle.exception_since)}))
        if cycle.payment_due and cycle.payment_due < self.today:
            notes.append(
                RiskNote(RiskReason.PAST_DUE, {"date": cycle.payment_due, "days": (self.today - cycle.payment_due).days})
            )
        return notes


def _date(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _duration(hours: int) -> str:
    if hours < 48:
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


STATE_LABELS = dict(OrderStatus.choices)


@dataclass(frozen=True)
class RiskNote:
    """One reason an order is at risk, with its figures; `text` words it in the active language."""

    reason: str
    params: dict

    @property
    def label(self) -> str:
        return str(RiskReason(self.reason).label)

    @property
    def text(self) -> str:
        p = self.params
        if self.reason == RiskReason.LATE:
            return ngettext(
                "Late: asked for by %(date)s, %(days)s day ago, and not delivered.",
                "Late: asked for by %(date)s, %(days)s days ago, and not delivered.",
                p["days"],
            ) % {"date": _date(p["date"]), "days": p["days"]}
        if self.reason == RiskReason.STUCK:
            return gettext("%(state)s for %(duration)s; the limit is %(limit)s.") % {
                "state": STATE_LABELS.get(p["state"], p["state"]),
                "duration": _duration(p["hours"]),
                "limit": _duration(p["limit"]),
            }
        if self.reason == RiskReason.CREDIT_HOLD:
            if p.get("review"):
                return gettext("Held in review by the credit check.")
            return gettext("The customer is on credit hold since %(date)s.") % {"date": _date(p["since"])}
        if self.reason == RiskReason.DELIVERY_EXCEPTION:
            return gettext("A delivery exception is open since %(date)s.") % {"date": _date(p["since"])}
        if self.reason == RiskReason.PAST_DUE:
            return ngettext(
                "Unpaid: due %(date)s, %(days)s day overdue.", "Unpaid: due %(date)s, %(days)s days overdue.", p["days"]
            ) % {"date": _date(p["date"]), "days": p["days"]}
        return self.label


__all__ = ["LIMITED_STATES", "RiskClock", "RiskNote", "RiskReason"]

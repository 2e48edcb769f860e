"""The review decisions: automatic (the checks passed or flagged) and by a reviewer (approve, reject)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import hooks, notifications
from .errors import OrderError
from .models import ReviewRule, ReviewSettings, SalesOrder
from .services import order_apply_transition


class SeparationOfDuties(OrderError):
    """The reviewer entered the order themselves: someone else must decide it."""


def _order_mark_approved(*, order: SalesOrder) -> SalesOrder:
    """Stamp the approval, hand the order to stock (allocation after commit), confirm to the customer."""
    order.approved_at = timezone.now()
    order.save(update_fields=["approved_at", "updated_at"])
    hooks.order_approved(order=order)
    notifications.notify_customer_order_confirmed(order=order)
    return order


@transaction.atomic
def order_pass_checks(*, order: SalesOrder) -> SalesOrder:
    """No automatic check flagged the order: it is approved without a reviewer."""
    approved = order_apply_transition(
        order=order, transition=lambda o: o.pass_checks, by=None, note=_("The automatic checks passed.")
    )
    _order_mark_approved(order=approved)
    notifications.notify_salesperson_of_automatic_approval(order=approved)
    return approved


@transaction.atomic
def order_flag_for_review(*, order: SalesOrder, findings: list) -> SalesOrder:
    """At least one check flagged the order: it waits in the review queue and the reviewers are told."""
    labels = dict(ReviewRule.choices)
    rules = sorted({str(labels.get(f.rule, f.rule)) for f in findings})
    flagged = order_apply_transition(
        order=order,
        transition=lambda o: o.flag_for_review,
        by=None,
        note=_("Sent to review: %(rules)s.") % {"rules": ", ".join(rules)},
    )
    notifications.notify_reviewers_order_in_review(order=flagged)
    return flagged


def _refuse_own_order(*, order: SalesOrder, by: AbstractBaseUser) -> None:
    if order.created_by_id == by.pk:
        raise SeparationOfDuties(
            _("You entered order %(number)s yourself, so another reviewer must decide it.") % {"number": order.number}
        )


@transaction.atomic
def order_approve(*, order: SalesOrder, by: AbstractBaseUser, note: str = "") -> SalesOrder:
    """A reviewer who did not enter the order approves it; stock allocation and the customer's confirmation follow."""
    _refuse_own_order(order=order, by=by)
    approved = order_apply_transition(order=order, transition=lambda o: o.approve, by=by, note=(note or "").strip())
    _order_mark_approved(order=approved)
    notifications.notify_salesperson_of_decision(order=approved, by=by, note=(note or "").strip())
    return approved


@transaction.atomic
def order_reject(*, order: SalesOrder, by: AbstractBaseUser, reason: str) -> SalesOrder:
    """A reviewer who did not enter the order rejects it with a reason; sales may reopen and fix it."""
    reason = (reason or "").strip()
    if not reason:
        raise OrderError(_("Say why the order is rejected: sales needs the reason to fix it."))
    _refuse_own_order(order=order, by=by)
    rejected = order_apply_transition(order=order, transition=lambda o: o.reject, by=by, note=reason)
    notifications.notify_salesperson_of_decision(order=rejected, by=by, note=reason)
    return rejected


@transaction.atomic
def review_settings_update(*, values: dict, by: AbstractBaseUser) -> ReviewSettings:
    """A manager changes the thresholds and switches of the automatic checks; later submissions use them."""
    rules = ReviewSettings.objects.select_for_update().get(pk=ReviewSettings.current().pk)
    for name, value in values.items():
        setattr(rules, name, value)
    rules.updated_by = by
    rules.full_clean()
    rules.save()
    return rules

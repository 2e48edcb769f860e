"""The review decisions: automatic (the checks passed or flagged) and by a reviewer (approve, reject).

What follows a decision (allocation, e-mails) is an outbox handler of the transition's event, so a
broker outage delays it and loses none of it. In-app notifications are written in the deciding
transaction and roll back with it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError
from config.rows import row_get
from config.transitions import transition_apply
from orders.models import OrderStatus, ReviewFinding, ReviewSettings, SalesOrder

from . import notifications
from .rules import FLAG, order_evaluate, order_submission_count


class SeparationOfDuties(DomainError):
    """The reviewer entered the order themselves: someone else must decide it."""

    default_code = "separation_of_duties"


@transaction.atomic
def order_pass_checks(*, order: SalesOrder, locked: bool = False) -> SalesOrder:
    """No automatic check flagged the order: it is approved without a reviewer. Nobody is notified:
    the order moves on to stock by itself, and the salesperson sees it approved on their list (a
    notification per order would bury the ones that need someone)."""
    return _pass_checks(order=order, locked=locked)


# The bodies of order_pass_checks and order_flag_for_review run in the caller's transaction: order_run_checks
# calls them inside its own, where a savepoint each would guard nothing more.
def _pass_checks(*, order: SalesOrder, locked: bool) -> SalesOrder:
    return transition_apply(
        obj=order,
        transition="pass_checks",
        actor=Actor.system("automatic_checks"),
        params={"checks": "passed"},
        lock=not locked,
        update_fields=["approved_at", "updated_at"],
    )


@transaction.atomic
def order_flag_for_review(*, order: SalesOrder, findings: list, locked: bool = False) -> SalesOrder:
    """At least one check flagged the order: it waits in the review queue and the reviewers are told."""
    return _flag_for_review(order=order, findings=findings, locked=locked)


def _flag_for_review(*, order: SalesOrder, findings: list, locked: bool) -> SalesOrder:
    flagged = transition_apply(
        obj=order,
        transition="flag_for_review",
        actor=Actor.system("automatic_checks"),
        params={"rules": sorted({f.rule for f in findings})},
        lock=not locked,
        update_fields=["updated_at"],
    )
    notifications.notify_reviewers_order_in_review(order=flagged)
    return flagged


def _refuse_own_order(*, order: SalesOrder, actor: Actor) -> None:
    if actor.user is not None and order.created_by_id == actor.user.pk:
        raise SeparationOfDuties(
            _("You entered order %(number)s yourself, so another reviewer must decide it.") % {"number": order.number}
        )


@transaction.atomic
def order_approve(*, order: SalesOrder, by, note: str = "") -> SalesOrder:
    """A reviewer who did not enter the order approves it; stock allocation and the customer's confirmation follow."""
    actor = Actor.of(by)
    _refuse_own_order(order=order, actor=actor)
    approved = transition_apply(obj=order, transition="approve", actor=actor, note=(note or "").strip())
    notifications.notify_salesperson_of_decision(order=approved, actor=actor, note=(note or "").strip())
    return approved


@transaction.atomic
def order_reject(*, order: SalesOrder, by, reason: str) -> SalesOrder:
    """A reviewer who did not enter the order rejects it with a reason; sales may reopen and fix it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the order is rejected: sales needs the reason to fix it."), field="reason")
    actor = Actor.of(by)
    _refuse_own_order(order=order, actor=actor)
    rejected = transition_apply(obj=order, transition="reject", actor=actor, note=reason)
    notifications.notify_salesperson_of_decision(order=rejected, actor=actor, note=reason)
    return rejected


@transaction.atomic
def review_settings_update(*, values: dict, by) -> ReviewSettings:
    """A manager changes the thresholds and switches of the automatic checks; later submissions use them."""
    actor = Actor.of(by)
    if not actor.has_perm("orders.change_reviewsettings"):
        raise DomainError(_("You are not allowed to change the review settings."), code="permission_denied")
    rules = ReviewSettings.objects.select_for_update().get(pk=ReviewSettings.current().pk)
    for name, value in values.items():
        setattr(rules, name, value)
    rules.updated_by = actor.user_or_none
    rules.full_clean()
    rules.save()
    return rules


# No savepoint of its own: the outbox runs it in the event's transaction (rolled back whole should it fail) or in a
# savepoint of its own making; the sweeper and the task call it outside any transaction.
@transaction.atomic(savepoint=False)
def order_run_checks(*, order_id: int) -> SalesOrder | None:
    """Run the automatic checks once per submission: no flag approves the order, any flag sends it to review."""
    order = row_get(SalesOrder, order_id, related=("customer", "shipping_address", "contact"), lock=True)
    if order is None or order.status != OrderStatus.SUBMITTED:
        return order  # deleted, or already decided by an earlier run: nothing to do
    findings = order_evaluate(order=order, rules=ReviewSettings.current())
    if findings:  # most orders have none: no count of the submissions, no INSERT
        submission = order_submission_count(order=order)
        ReviewFinding.objects.bulk_create(
            [
                ReviewFinding(
                    order=order, submission=submission, rule=f.rule, severity=f.severity, message=f.message, figures=f.figures
                )
                for f in findings
            ]
        )
    flags = [f for f in findings if f.severity == FLAG]
    if flags:  # the row is locked above
        return _flag_for_review(order=order, findings=flags, locked=True)
    return _pass_checks(order=order, locked=True)

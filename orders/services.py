"""Every write to orders: creation, lines and totals, and the transitions of the state machine."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from config.money import ZERO
from config.numbering import next_number

from .errors import OrderError
from .models import OrderEvent, SalesOrder


def order_number_for(*, year: int, value: int) -> str:
    return f"SO-{year}-{value:06d}"


def order_next_number() -> str:
    """SO-<year>-<6 digits>, from the year's locked counter: unique under any concurrency."""
    year = timezone.localdate().year
    return order_number_for(year=year, value=next_number("sales_order", year))


def order_recompute_totals(*, order: SalesOrder) -> SalesOrder:
    """Totals are the sums of the rounded lines, in one aggregate query."""
    sums = order.lines.aggregate(net=Sum("line_net"), tax=Sum("line_tax"), gross=Sum("line_total"))
    order.subtotal = sums["net"] or ZERO
    order.tax_total = sums["tax"] or ZERO
    order.total = sums["gross"] or ZERO
    order.line_count = order.lines.count()
    return order


def order_lock(*, order_id: int) -> SalesOrder:
    """Re-read the order under a row lock before acting on it."""
    return SalesOrder.objects.select_for_update().get(pk=order_id)


def order_log(*, order: SalesOrder, kind: str, by=None, note: str = "", from_status: str = "", to_status: str = "") -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, kind=kind, by=by, note=note, from_status=from_status, to_status=to_status
    )


def order_apply_transition(
    *, order: SalesOrder, transition: Callable[[SalesOrder], Callable], by=None, note: str = "", check_permission: bool = True
) -> SalesOrder:
    """Lock the order, run one FSM transition, save and write the timeline row.

    `transition` picks the bound method from the locked instance, e.g. `lambda o: o.approve`.
    `by=None` is the system (automatic checks, allocation after a receipt).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order transitions run inside transaction.atomic()")
    locked = order_lock(order_id=order.pk)
    method = transition(locked)
    if not can_proceed(method):
        raise OrderError(
            _("Order %(number)s cannot do “%(action)s” while it is %(status)s.")
            % {"number": locked.number, "action": method.__name__.replace("_", " "), "status": locked.get_status_display()}
        )
    if check_permission and by is not None and not has_transition_perm(method, by):
        raise OrderError(_("You are not allowed to do that with this order."))
    from_status = locked.status
    method()
    locked.save()
    order_log(order=locked, kind=OrderEvent.Kind.TRANSITION, by=by, note=note, from_status=from_status, to_status=locked.status)
    return locked

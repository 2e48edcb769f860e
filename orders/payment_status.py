"""The order's payment status: billing works it out from the order's invoices and stores it here.

Orders never read billing; billing calls `order_payment_status_set` inside the transaction that
changed the money (an allocation, its undoing, a credit note, a refund), after its invoice locks
(lock order: invoices → orders). A delivered, fully invoiced order whose invoices are settled
completes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from config.bulk import rows_update
from config.transitions import transition_apply
from orders.models import OrderEvent, OrderStatus, PaymentStatus, SalesOrder


def _lock(order_ids: Iterable[int]) -> list[SalesOrder]:
    return list(SalesOrder.objects.select_for_update(of=("self",)).filter(pk__in=list(order_ids)).order_by("pk"))


def order_complete_if_settled(*, order: SalesOrder, by) -> SalesOrder:
    """A delivered order that is fully invoiced and settled (paid or refunded) becomes completed; any other is left as it is.

    The caller holds the order's lock (transition_apply re-reads it under the same lock)."""
    if order.status != OrderStatus.DELIVERED or not order._settled() or not order._fully_invoiced():
        return order
    return transition_apply(obj=order, transition="complete", actor=Actor.of(by))


def _check_values(statuses: Iterable[str]) -> None:
    unknown = set(statuses) - set(PaymentStatus.values)
    if unknown:
        raise ValueError(f"unknown payment status {sorted(unknown)!r}")


@transaction.atomic
def order_payment_status_set(*, statuses: dict[int, str], by) -> list[SalesOrder]:
    """Store billing's payment status of each order {order id: PaymentStatus}, write the change on its
    timeline, and complete the orders that are now delivered, fully invoiced and settled."""
    actor = Actor.of(by)
    _check_values(statuses.values())
    orders = _lock(statuses)
    changed = []
    for order in orders:
        before, after = order.payment_status, statuses[order.pk]
        if before != after:
            order.payment_status = after
            order.save(update_fields=["payment_status", "updated_at"])
            OrderEvent.record(order, kind=OrderEvent.Kind.PAYMENT, actor=actor, params={"from": before, "to": after})
        changed.append(order_complete_if_settled(order=order, by=actor))
    return changed


@transaction.atomic
def order_payment_status_set_in_turn(*, steps: Sequence[Mapping[int, str]], by) -> list[SalesOrder]:
    """order_payment_status_set for many payments recorded together: `steps` holds the statuses after
    each payment, in the order they were recorded. Each change is written on the order's timeline as
    it happened, the last status is stored (one UPDATE), and the orders now delivered, fully invoiced
    and settled complete: the rows one call per step would leave."""
    actor = Actor.of(by)
    for step in steps:
        _check_values(step.values())
    orders = {order.pk: order for order in _lock({order_id for step in steps for order_id in step})}
    current = {pk: order.payment_status for pk, order in orders.items()}
    events = []
    for step in steps:
        for order_id in sorted(step):  # one call locks, and so words, its orders in key order
            before, after = current[order_id], step[order_id]
            if before != after:
                params = {"from": before, "to": after}
                events.append(OrderEvent.build(orders[order_id], kind=OrderEvent.Kind.PAYMENT, actor=actor, params=params))
                current[order_id] = after
    changed = [order for pk, order in orders.items() if order.payment_status != current[pk]]
    now = timezone.now()
    for order in changed:
        order.payment_status, order.updated_at = current[order.pk], now
    rows_update(changed, ["payment_status", "updated_at"])
    OrderEvent.objects.bulk_create(events, batch_size=1000)
    return [order_complete_if_settled(order=orders[pk], by=actor) for pk in sorted(orders)]

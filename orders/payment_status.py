"""The order's payment status: billing works it out from the order's invoices and stores it here.

Orders never read billing; billing calls `order_payment_status_set` inside the transaction that
changed the money (an allocation, its undoing, a credit note, a refund), after its invoice locks
(lock order: invoices → orders). A delivered, fully invoiced order whose invoices are settled
completes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from config.actors import Actor
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


@transaction.atomic
def order_payment_status_set(*, statuses: dict[int, str], by) -> list[SalesOrder]:
    """Store billing's payment status of each order {order id: PaymentStatus}, write the change on its
    timeline, and complete the orders that are now delivered, fully invoiced and settled."""
    actor = Actor.of(by)
    valid = set(PaymentStatus.values)
    unknown = {value for value in statuses.values() if value not in valid}
    if unknown:
        raise ValueError(f"unknown payment status {sorted(unknown)!r}")
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

"""Reads of returns: what of an order may still come back, lists, the warehouse's queue."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Sum

from logistics.returns.models import OPEN_RETURN_STATES, ReturnLine, ReturnRequest, ReturnState
from orders.models import OrderStatus, SalesOrder

# Orders with goods at the customer: only their shipped units may come back.
RETURNABLE_ORDER_STATES = [OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]


def units_on_open_returns(*, line_ids, exclude_return_id: int | None = None) -> dict[int, int]:
    """Per order line: units on returns requested or approved (promised back, not received yet)."""
    lines = ReturnLine.objects.filter(order_line_id__in=list(line_ids), return_request__state__in=OPEN_RETURN_STATES)
    if exclude_return_id is not None:
        lines = lines.exclude(return_request_id=exclude_return_id)
    return dict(lines.order_by().values("order_line").annotate(total=Sum("quantity")).values_list("order_line", "total"))


def returnable_quantities(*, order: SalesOrder) -> dict[int, int]:
    """Per order line: shipped, less what came back already, less what open returns hold."""
    lines = list(order.lines.values_list("pk", "quantity_shipped", "quantity_returned"))
    held = units_on_open_returns(line_ids=[pk for pk, _s, _r in lines])
    return {pk: shipped - returned - held.get(pk, 0) for pk, shipped, returned in lines}


def order_may_return(order: SalesOrder) -> bool:
    return order.status in RETURNABLE_ORDER_STATES and any(qty > 0 for qty in returnable_quantities(order=order).values())


def return_list() -> QuerySet[ReturnRequest]:
    """Returns for lists: order and customer in the same query."""
    return ReturnRequest.objects.select_related("order__customer", "created_by")


def return_search(queryset: QuerySet[ReturnRequest], text: str) -> QuerySet[ReturnRequest]:
    """By return number, order number or customer name or code."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(number__icontains=text)
        | Q(order__number__icontains=text)
        | Q(order__customer__name__icontains=text)
        | Q(order__customer__code__iexact=text)
    )


def returns_to_receive() -> QuerySet[ReturnRequest]:
    """Approved returns whose goods the warehouse waits for, longest waiting first."""
    return return_list().filter(state=ReturnState.APPROVED).order_by("approved_at", "pk")

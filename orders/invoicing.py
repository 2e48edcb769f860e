"""The order side of invoicing: which shipped units are still to invoice, and the lines' invoiced
quantities. Billing calls this; only this module changes `quantity_invoiced`.

Invoiceable = shipped − returned − invoiced; `quantity_invoiced` never goes above shipped −
returned (a database CHECK as well). Lock order: the orders' rows (by primary key), then their lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError
from orders.models import OrderStatus, SalesOrder, SalesOrderLine

# Orders whose shipped goods may be invoiced (a line is invoiceable once something of it shipped).
INVOICEABLE_STATUSES = [OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]
# Orders a prepayment invoice may be drafted for: approved, nothing shipped yet.
PREPAYABLE_STATUSES = [OrderStatus.APPROVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED]


def invoiceable_quantity(line: SalesOrderLine) -> int:
    """Shipped, less returned and already invoiced."""
    return line.quantity_shipped - line.quantity_returned - line.quantity_invoiced


def orders_lock(*, order_ids: Iterable[int]) -> list[SalesOrder]:
    """Lock the orders' rows in primary-key order (the global lock order) and return them."""
    return list(
        SalesOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(set(order_ids)))
        .select_related("customer")
        .order_by("pk")
    )


def order_lines_for_invoicing(*, order_ids: Iterable[int]) -> list[SalesOrderLine]:
    """The lines of the (locked) orders with their products, in order and position (one query)."""
    return list(
        SalesOrderLine.objects.filter(order_id__in=list(order_ids))
        .select_related("product", "order")
        .order_by("order_id", "position", "pk")
    )


def _case(quantities: Mapping[int, int]) -> Case:
    return Case(*[When(pk=pk, then=Value(qty)) for pk, qty in quantities.items()], default=Value(0), output_field=IntegerField())


@transaction.atomic
def order_lines_record_invoiced(*, quantities: Mapping[int, int], by) -> int:
    """Units of order lines were put on an invoice: their invoiced quantities grow (one UPDATE,
    whatever the number of lines); more than shipped − returned − invoiced is refused."""
    Actor.of(by)
    quantities = {int(pk): int(qty) for pk, qty in quantities.items() if qty}
    if not quantities:
        return 0
    if any(qty < 0 for qty in quantities.values()):
        raise DomainError(_("An invoiced quantity cannot be negative."), code="negative_quantity")
    lines = SalesOrderLine.objects.filter(pk__in=list(quantities))
    updated = lines.filter(quantity_invoiced__lte=F("quantity_shipped") - F("quantity_returned") - _case(quantities)).update(
        quantity_invoiced=F("quantity_invoiced") + _case(quantities)
    )
    if updated != len(quantities):
        raise DomainError(
            _("Some of these units are no longer invoiceable (already invoiced or returned): reload and try again."),
            code="over_invoice",
        )
    return updated


@transaction.atomic
def order_lines_release_invoiced(*, quantities: Mapping[int, int], by) -> int:
    """Units taken off invoices (a discarded draft, a credit note that takes units back): the
    lines' invoiced quantities shrink, never below zero (one UPDATE)."""
    Actor.of(by)
    quantities = {int(pk): int(qty) for pk, qty in quantities.items() if qty}
    if not quantities:
        return 0
    updated = (
        SalesOrderLine.objects.filter(pk__in=list(quantities))
        .filter(quantity_invoiced__gte=_case(quantities))
        .update(quantity_invoiced=F("quantity_invoiced") - _case(quantities))
    )
    if updated != len(quantities):
        raise DomainError(_("Fewer units are invoiced than are taken back."), code="under_invoice")
    return updated

"""Test data for returns: orders shipped through the services, returns opened and approved."""

from __future__ import annotations

from config.actors import Actor
from inventory.tests.factories import approved_order
from logistics.returns.services import return_approve, return_open
from logistics.tests.factories import packed_shipment, ship
from orders.fulfilment.services import order_allocate
from orders.models import SalesOrder


def shipped_order(*, lines, warehouse, clerk, salesperson=None) -> SalesOrder:
    """An order entered by `salesperson` with lines [(product, quantity)], allocated and shipped in full."""
    order = order_allocate(order=approved_order(lines=lines, by=salesperson), by=Actor.system("allocation"))
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)
    return SalesOrder.objects.get(pk=order.pk)


def approved_return(*, order, quantities, by, reason="defective"):
    """A return of {order line id: units}, opened and approved by `by`."""
    return return_approve(return_request=return_open(order=order, quantities=quantities, reason=reason, by=by), by=by)

"""Outbox handlers: the sales facts of an order are refreshed after each event that changes them.

Registered in the `# reports` block of config/settings.py. Each recomputes the order's slices from
the current rows, so running one twice, or late, or out of order gives the same facts.
"""

from __future__ import annotations

from logistics.models import Shipment
from logistics.returns.models import ReturnRequest
from orders.models import SalesOrderLine

from .facts import sales_facts_refresh_order, sales_facts_refresh_orders


def refresh_order(payload: dict) -> None:
    """An order was approved, allocated, backordered, cancelled or closed short."""
    sales_facts_refresh_order(order_id=payload["id"])


def refresh_shipment_order(payload: dict) -> None:
    """A shipment left: the order's warehouse and its margin of the day change."""
    order_id = Shipment.objects.filter(pk=payload["id"]).values_list("order_id", flat=True).first()
    if order_id is not None:
        sales_facts_refresh_order(order_id=order_id)


def refresh_return_order(payload: dict) -> None:
    """A return was received: the order's kept quantities and the margin of the day change."""
    order_id = ReturnRequest.objects.filter(pk=payload["id"]).values_list("order_id", flat=True).first()
    if order_id is not None:
        sales_facts_refresh_order(order_id=order_id)


def refresh_orders_of_lines(payload: dict) -> None:
    """A stock count took reservations away: the lines' warehouses may change."""
    order_ids = set(SalesOrderLine.objects.filter(pk__in=payload.get("order_line_ids", [])).values_list("order_id", flat=True))
    sales_facts_refresh_orders(order_ids=order_ids)

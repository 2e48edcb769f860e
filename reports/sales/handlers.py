"""Outbox handlers: an event that changes an order's sales or margin marks the order for the next batch refresh of
the sales facts (reports.dirty); the order transitions that do are named in REPORTS_BATCHED_AREAS["sales"].

Registered in the `# reports` block of config/settings.py. A refresh recomputes the orders' facts from the current
rows, so a mark handled twice, or late, or out of order gives the same facts.
"""

from __future__ import annotations

from logistics.models import Shipment
from logistics.returns.models import ReturnRequest
from orders.models import SalesOrderLine
from reports.dirty import dirty_mark

from .facts import sales_facts_refresh_orders

AREA = "sales"


def refresh_orders(order_ids: list[int]) -> None:
    """The batch refresh of the marked orders (reports.dirty)."""
    sales_facts_refresh_orders(order_ids=order_ids)


def refresh_shipment_order(payload: dict) -> None:
    """A shipment left: the order's warehouse and its margin of the day change."""
    dirty_mark(area=AREA, keys=Shipment.objects.filter(pk=payload["id"]).values_list("order_id", flat=True))


def refresh_return_order(payload: dict) -> None:
    """A return was received: the order's kept quantities and the margin of the day change."""
    dirty_mark(area=AREA, keys=ReturnRequest.objects.filter(pk=payload["id"]).values_list("order_id", flat=True))


def refresh_orders_of_lines(payload: dict) -> None:
    """A stock count took reservations away: the lines' warehouses may change."""
    lines = SalesOrderLine.objects.filter(pk__in=payload.get("order_line_ids", []))
    dirty_mark(area=AREA, keys=lines.values_list("order_id", flat=True))

"""Outbox handlers: an order, complaint or return of a customer changed, so that customer's snapshot rows
are worked out again (idempotent: they are recomputed from the source rows, never added to)."""

from __future__ import annotations

from customers.models import Complaint
from logistics.returns.models import ReturnRequest
from orders.models import SalesOrder

from .snapshot import customer_snapshot_refresh

# Topics after which the customer's figures may differ (registered in the reports block of config/settings.py).
ORDER_TOPICS = [
    "orders.salesorder.submit",  # an open order more
    "orders.salesorder.pass_checks",  # booked
    "orders.salesorder.approve",  # booked
    "orders.salesorder.reject",  # no longer open
    "orders.salesorder.cancel",  # no longer booked nor open
    "orders.salesorder.ship_rest",  # no longer open
    "orders.salesorder.close_short",  # no longer open
]
COMPLAINT_TOPICS = ["customers.complaint_opened", "customers.complaint.resolve", "customers.complaint.reopen"]
RETURN_TOPICS = ["logistics.returnrequest.approve", "logistics.returnrequest.reject"]


def _refresh(customer_id: int | None) -> None:
    if customer_id is not None:
        customer_snapshot_refresh(customer_id=customer_id)


def refresh_for_order(payload: dict) -> None:
    """An order's state changed: its customer's snapshot is refreshed."""
    _refresh(SalesOrder.objects.filter(pk=payload["id"]).values_list("customer_id", flat=True).first())


def refresh_for_complaint(payload: dict) -> None:
    """A complaint was opened, resolved or reopened: its customer's counts are refreshed."""
    _refresh(payload.get("customer") or Complaint.objects.filter(pk=payload["id"]).values_list("customer_id", flat=True).first())


def refresh_for_return(payload: dict) -> None:
    """A return was accepted (or turned down after all): its customer's counts are refreshed."""
    _refresh(ReturnRequest.objects.filter(pk=payload["id"]).values_list("order__customer_id", flat=True).first())

"""Outbox handlers: an order, complaint or return of a customer changed, so that customer is marked for the next batch
refresh of its snapshot rows (reports.dirty; idempotent: they are recomputed from the source rows, never added to).
The order transitions that mark the customer are in REPORTS_BATCHED_AREAS["customers"] (reports.dirty.order_changed)."""

from __future__ import annotations

from customers.models import Complaint
from logistics.returns.models import ReturnRequest
from reports.dirty import dirty_mark

from .snapshot import customer_snapshot_refresh_many

AREA = "customers"
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


# Customers refreshed by one statement of each kind (their ids are bound one parameter each).
REFRESH_CHUNK = 1000


def refresh_customers(customer_ids: list[int]) -> None:
    """The batch refresh of the marked customers (reports.dirty): a fixed number of statements per chunk of them."""
    ordered = sorted(set(customer_ids))
    for start in range(0, len(ordered), REFRESH_CHUNK):
        customer_snapshot_refresh_many(customer_ids=ordered[start : start + REFRESH_CHUNK])


def refresh_for_complaint(payload: dict) -> None:
    """A complaint was opened, resolved or reopened: its customer's counts are refreshed."""
    customer_id = (
        payload.get("customer") or Complaint.objects.filter(pk=payload["id"]).values_list("customer_id", flat=True).first()
    )
    dirty_mark(area=AREA, keys=[customer_id])


def refresh_for_return(payload: dict) -> None:
    """A return was accepted (or turned down after all): its customer's counts are refreshed."""
    dirty_mark(area=AREA, keys=ReturnRequest.objects.filter(pk=payload["id"]).values_list("order__customer_id", flat=True))

"""The nightly run of the sales facts: after the first build, only the orders whose facts may have changed
since the last run, and a slice of all orders in turn, are computed again; the whole snapshot is computed
afresh and compared (sales_facts_rebuild) on the first build, once a week and when asked for."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from inventory.models import Product
from logistics.models import Shipment
from logistics.returns.models import ReturnEvent, ReturnRequest
from orders.models import OrderEvent, SalesOrder
from reports.models import SnapshotState
from reports.snapshots import NIGHTLY_OVERLAP, nightly_refresh, nightly_slice

from .facts import SNAPSHOT, sales_facts_rebuild, sales_facts_refresh_orders
from .models import MarginLineFact, SalesOrderFact

# Besides the orders that changed, a slice of this many orders (by id, in turn) is computed again each night:
# every order is computed again from its business rows at least every (orders / this) nights (100 nights at a
# million orders; the weekly full run catches anything sooner).
NIGHTLY_SLICE_ORDERS = 10_000
# Orders refreshed in one transaction (one array per statement).
REFRESH_CHUNK = 5000
# The day of the week (date.weekday(): Monday 0) whose run computes every fact afresh and compares (Sunday).
FULL_RUN_WEEKDAY = 6


def _orders_changed_since(since: datetime, until: datetime) -> set[int]:
    """The orders whose sales or margin facts may have changed from `since` to `until` (now), by what the
    facts read: the order saved (its state, approval, customer, channel), a timeline event (every change to
    its lines' cancelled and returned units, its reservations and shipments records one), a shipment of it
    made or sent (its ledger movement, append-only, is posted as it leaves), a return of it received, and the orders whose margin
    has an estimated cost (the product's cost today) when that product was saved. Each an index range, but
    the products' (a small table)."""
    changed: set[int] = set()
    returns_received = ReturnEvent.objects.filter(at__range=(since, until)).values("return_request_id")
    products_saved = Product.objects.filter(updated_at__range=(since, until)).values("pk")
    queries = [
        SalesOrder.objects.filter(updated_at__range=(since, until)).values_list("pk", flat=True),
        OrderEvent.objects.filter(at__range=(since, until)).values_list("order_id", flat=True),
        Shipment.objects.filter(Q(created_at__gte=since) | Q(shipped_at__gte=since)).values_list("order_id", flat=True),
        ReturnRequest.objects.filter(pk__in=returns_received, received_at__isnull=False).values_list("order_id", flat=True),
        MarginLineFact.objects.filter(product_id__in=products_saved)
        .exclude(estimated_quantity=0)
        .values_list("order_id", flat=True),
    ]
    for query in queries:
        changed.update(query.order_by().distinct())
    return changed


def sales_facts_nightly(*, now: datetime | None = None, full: bool = False) -> dict:
    """The nightly run (the beat task reports.sales.tasks.rebuild_sales_facts).

    In full (sales_facts_rebuild: every fact computed afresh and compared, only the rows that differ
    rewritten) when the snapshot was never built or is empty, on Sundays (FULL_RUN_WEEKDAY), and when
    `full` (the task's argument, for a run on demand). Otherwise the orders whose facts may have changed
    since the last run (less NIGHTLY_OVERLAP) and the night's slice of all orders are computed again
    (sales_facts_refresh_orders, in chunks of REFRESH_CHUNK, each its own transaction: readers never wait,
    events go on being handled)."""
    now = now or timezone.now()
    state = SnapshotState.objects.filter(name=SNAPSHOT).first()
    never_built = state is None or state.rebuilt_at is None or not SalesOrderFact.objects.exists()
    if full or never_built or timezone.localdate(now).weekday() == FULL_RUN_WEEKDAY:
        sales_facts_rebuild(now=now)
        return {"rebuilt": True, "refreshed": 0}
    ids = _orders_changed_since(state.rebuilt_at - NIGHTLY_OVERLAP, now)
    ids.update(nightly_slice(timezone.localdate(now), size=NIGHTLY_SLICE_ORDERS))
    return nightly_refresh(
        SNAPSHOT, order_ids=ids, chunk=REFRESH_CHUNK, refresh=lambda chunk: sales_facts_refresh_orders(order_ids=chunk), now=now
    )

"""Reads other pages need from logistics: the warehouse's home queues and the order page's shipments panel."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import COUNT_CAP, QUEUE_PREVIEW, WorkQueue, work_queue
from config.roles import WAREHOUSE, has_role
from logistics.models import Shipment, ShipmentState
from logistics.shipments.selectors import orders_waiting_to_pick, pick_queue_page, ready_to_pick_rows


def home_queues(user) -> list[WorkQueue]:
    """Warehouse staff see what is ready to pick, what is packed but not shipped and what is on its way."""
    if not has_role(user, WAREHOUSE) or not user.has_perm("logistics.view_shipment"):
        return []
    # The queue's first rows; the count exact when they are the whole queue, else the orders holding stock.
    first = pick_queue_page(size=QUEUE_PREVIEW)
    packed = Shipment.objects.filter(state=ShipmentState.PACKED).select_related("order").order_by("packed_at", "pk")
    on_the_way = Shipment.objects.filter(state=ShipmentState.SHIPPED).select_related("order").order_by("eta", "shipped_at", "pk")
    return [
        WorkQueue(
            title=_("Ready to pick"),
            url=reverse("logistics:pick_queue"),
            count=orders_waiting_to_pick(cap=COUNT_CAP) if first.has_next else len(first.rows),
            items=ready_to_pick_rows(first.rows),
            empty_text=_("Nothing is waiting to be picked."),
            role=WAREHOUSE,
        ),
        work_queue(
            title=_("Packed, not shipped"),
            url=f"{reverse('logistics:shipment_list')}?state={ShipmentState.PACKED}",
            queryset=packed,
            empty_text=_("No packed shipment waits for the carrier."),
            role=WAREHOUSE,
        ),
        work_queue(
            title=_("Shipped, not delivered"),
            url=f"{reverse('logistics:shipment_list')}?state={ShipmentState.SHIPPED}&ordering=shipped",
            queryset=on_the_way,
            empty_text=_("Every shipped shipment was delivered."),
            role=WAREHOUSE,
        ),
    ]

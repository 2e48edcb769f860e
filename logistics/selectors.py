"""Reads other pages need from logistics: the warehouse's home queues and the order page's shipments panel."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import QUEUE_PREVIEW, WorkQueue, work_queue
from config.roles import WAREHOUSE
from logistics.models import Shipment, ShipmentState
from logistics.shipments.selectors import ready_to_pick


def home_queues(user) -> list[WorkQueue]:
    """Warehouse staff see what is ready to pick and what is packed but not shipped."""
    if not user.groups.filter(name=WAREHOUSE).exists() or not user.has_perm("logistics.view_shipment"):
        return []
    ready = ready_to_pick()
    packed = Shipment.objects.filter(state=ShipmentState.PACKED).select_related("order").order_by("packed_at", "pk")
    return [
        WorkQueue(
            title=_("Ready to pick"),
            url=reverse("logistics:pick_queue"),
            count=len(ready),
            items=ready[:QUEUE_PREVIEW],
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
    ]

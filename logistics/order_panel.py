"""The shipments section of the order page (orders never imports logistics: settings.ORDER_PAGE_PANELS names this)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from customers.types import CustomerPanel, PanelCell, PanelColumn
from logistics.models import Parcel, Shipment
from logistics.shipments.selectors import pickable_quantities


def order_shipments_panel(*, order, user) -> CustomerPanel | None:
    """The order's shipments with state, carrier, waybill numbers and ETA; a Pick link while units wait (two queries)."""
    if not user.has_perm("logistics.view_shipment"):
        return None
    shipments = list(Shipment.objects.filter(order=order).select_related("carrier", "warehouse").order_by("created_at", "pk"))
    waybills: dict[int, list[str]] = {}
    for shipment_id, number in (
        Parcel.objects.filter(shipment__order=order)
        .exclude(waybill_number="")
        .order_by("index")
        .values_list("shipment", "waybill_number")
    ):
        waybills.setdefault(shipment_id, []).append(number)
    rows = [
        [
            PanelCell(shipment.number, url=shipment.get_absolute_url()),
            PanelCell(shipment.get_state_display(), badge=f"status status-{shipment.state}"),
            PanelCell(shipment.warehouse.code),
            PanelCell(shipment.carrier.name if shipment.carrier_id else ""),
            PanelCell(", ".join(waybills.get(shipment.pk, []))),
            PanelCell(str(shipment.unit_count), numeric=True),
            PanelCell(shipment.eta.isoformat() if shipment.eta else ""),
        ]
        for shipment in shipments
    ]
    chips = []
    if user.has_perm("logistics.ship_shipment") and pickable_quantities(order=order):
        chips.append(PanelCell(_("Reserved units wait to be picked."), badge="status status-allocated"))
    return CustomerPanel(
        key="shipments",
        title=_("Shipments"),
        count=len(shipments),
        chips=chips,
        columns=[
            PanelColumn(_("Number")),
            PanelColumn(_("State")),
            PanelColumn(_("Warehouse")),
            PanelColumn(_("Carrier")),
            PanelColumn(_("Waybill numbers")),
            PanelColumn(_("Units"), numeric=True),
            PanelColumn(_("Expected delivery")),
        ],
        rows=rows,
        empty_text=_("No shipment yet."),
    )

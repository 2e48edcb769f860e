"""The orders section of the customer 360 page: recent orders, counts per status, credit exposure."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.types import CustomerPanel, PanelCell, PanelColumn
from orders.credit import customer_credit_exposure
from orders.models import OrderStatus, SalesOrder

RECENT_ORDERS = 20


def customer_orders_panel(*, customer: Customer, user) -> CustomerPanel | None:
    """The customer's latest orders, how many are in each status, and the credit they commit (order viewers only)."""
    if not user.has_perm("orders.view_salesorder"):
        return None
    orders = SalesOrder.objects.filter(customer=customer)
    recent = list(orders.order_by("-created_at", "-pk")[:RECENT_ORDERS])
    labels = dict(OrderStatus.choices)
    counts = list(orders.values("status").annotate(n=Count("pk")).order_by("status"))
    total = sum(row["n"] for row in counts)
    return CustomerPanel(
        key="orders",
        title=_("Orders"),
        count=total,
        chips=[
            PanelCell(text=f"{labels.get(row['status'], row['status'])}: {row['n']}", badge=f"status status-{row['status']}")
            for row in counts
        ],
        columns=[
            PanelColumn(_("Number")),
            PanelColumn(_("Date")),
            PanelColumn(_("Status")),
            PanelColumn(_("Total"), numeric=True),
        ],
        rows=[
            [
                PanelCell(text=order.number, url=order.get_absolute_url()),
                PanelCell(text=f"{timezone.localtime(order.created_at):%Y-%m-%d}"),
                PanelCell(text=order.get_status_display(), badge=f"status status-{order.status}"),
                PanelCell(text=intcomma(order.total), numeric=True),
            ]
            for order in recent
        ],
        empty_text=_("No orders yet."),
        footnote=_("The latest %(shown)s orders are shown.") % {"shown": len(recent)} if total > len(recent) else "",
        exposure=customer_credit_exposure(customer=customer),
        exposure_note=_("Exposure: open receivables less advances, plus approved orders not yet invoiced."),
    )

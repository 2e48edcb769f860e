"""The customer page's "Customer value" section (settings.CUSTOMER_PAGE_PANELS): segment, RFM scores and
the 12 months in figures, from the snapshot (one query)."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer
from customers.types import CustomerPanel, PanelCell

from .models import Segment
from .segments import segment_badge, segment_description, segment_label
from .selectors import customer_snapshot, may_see_customer


def customer_segment_panel(*, customer: Customer, user) -> CustomerPanel | None:
    """The customer's segment and what it rests on, for managers and the customer's own salesperson."""
    if not may_see_customer(user=user, customer=customer):
        return None
    row = customer_snapshot(customer=customer)
    if row is None:
        return None
    chips = [
        PanelCell(segment_label(row.segment), badge=segment_badge(row.segment)),
        PanelCell(segment_description(row.segment)),
    ]
    if row.recency_score is not None:
        chips.append(
            PanelCell(
                _("Recency %(recency)s · frequency %(frequency)s · monetary %(monetary)s (of 5)")
                % {"recency": row.recency_score, "frequency": row.frequency_score, "monetary": row.monetary_score}
            )
        )
    if row.last_order_at is not None:
        days = (timezone.localdate() - timezone.localdate(row.last_order_at)).days
        chips.append(
            PanelCell(
                ngettext("Last order %(date)s (%(days)s day ago)", "Last order %(date)s (%(days)s days ago)", days)
                % {"date": f"{timezone.localtime(row.last_order_at):%Y-%m-%d}", "days": days}
            )
        )
        chips.append(
            PanelCell(_("12 months: %(orders)s orders, %(gross)s") % {"orders": row.orders_12m, "gross": intcomma(row.gross_12m)})
        )
    if row.segment != Segment.NO_ORDERS:
        chips.append(
            PanelCell(
                _("Complaints in 12 months: %(complaints)s · returns: %(returns)s")
                % {"complaints": row.complaints_12m, "returns": row.returns_12m}
            )
        )
    return CustomerPanel(
        key="customer-value",
        title=_("Customer value"),
        chips=chips,
    )

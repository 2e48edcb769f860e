"""The customer page's "Customer value" section (settings.CUSTOMER_PAGE_PANELS): segment, RFM scores and
the 12 months in figures, from the snapshot (one query)."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer
from customers.types import CustomerPanel, PanelCell, PanelColumn

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
        PanelCell(_("Relationship report"), url=reverse("reports:customer_relationship", args=[customer.pk]), badge="button"),
    ]
    rows = []
    if row.last_order_at is not None:
        days = (timezone.localdate() - timezone.localdate(row.last_order_at)).days
        score = _("%(score)s of 5")
        rows.append(
            [
                PanelCell(score % {"score": row.recency_score} if row.recency_score else "—", numeric=True),
                PanelCell(score % {"score": row.frequency_score} if row.frequency_score else "—", numeric=True),
                PanelCell(score % {"score": row.monetary_score} if row.monetary_score else "—", numeric=True),
                PanelCell(
                    ngettext("%(date)s (%(days)s day ago)", "%(date)s (%(days)s days ago)", days)
                    % {"date": f"{timezone.localtime(row.last_order_at):%Y-%m-%d}", "days": days}
                ),
                PanelCell(intcomma(row.orders_12m), numeric=True),
                PanelCell(intcomma(row.gross_12m), numeric=True),
                PanelCell(intcomma(row.complaints_12m), numeric=True),
                PanelCell(intcomma(row.returns_12m), numeric=True),
            ]
        )
    return CustomerPanel(
        key="customer-value",
        title=_("Customer value"),
        chips=chips,
        columns=[
            PanelColumn(_("Recency"), numeric=True),
            PanelColumn(_("Frequency"), numeric=True),
            PanelColumn(_("Monetary"), numeric=True),
            PanelColumn(_("Last order")),
            PanelColumn(_("Orders in 12 months"), numeric=True),
            PanelColumn(_("Gross amount in 12 months"), numeric=True),
            PanelColumn(_("Complaints in 12 months"), numeric=True),
            PanelColumn(_("Returns in 12 months"), numeric=True),
        ],
        rows=rows,
    )

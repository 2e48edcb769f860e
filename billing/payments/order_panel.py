"""The payments section of the order page: which payments paid the order's invoices (orders never imports billing)."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from billing.models import InvoiceLine
from billing.payments.models import PaymentAllocation
from billing.payments.selectors import SEE_ALL
from customers.types import CustomerPanel, PanelCell, PanelColumn


def order_payments_panel(*, order, user) -> CustomerPanel | None:
    """The allocations to the order's invoices, newest first, undone ones marked (order viewers; links for payment viewers)."""
    if not user.has_perm("orders.view_salesorder"):
        return None
    invoice_ids = InvoiceLine.objects.filter(order=order).values("invoice_id")
    allocations = list(
        PaymentAllocation.objects.filter(invoice_id__in=invoice_ids)
        .select_related("payment", "invoice")
        .order_by("-created_at", "-pk")
    )
    may_open = user.has_perm("billing.view_payment") and (user.has_perm(SEE_ALL) or order.customer.salesperson_id == user.pk)
    return CustomerPanel(
        key="payments",
        title=_("Payments"),
        count=sum(1 for allocation in allocations if allocation.is_active),
        chips=[PanelCell(order.get_payment_status_display(), badge=f"status payment-{order.payment_status}")]
        if order.payment_status
        else [],
        columns=[
            PanelColumn(_("Payment")),
            PanelColumn(_("Date")),
            PanelColumn(_("Invoice")),
            PanelColumn(_("Method")),
            PanelColumn(_("Amount"), numeric=True),
        ],
        rows=[
            [
                PanelCell(
                    text=allocation.payment.number
                    if allocation.is_active
                    else _("%(number)s (undone)") % {"number": allocation.payment.number},
                    url=allocation.payment.get_absolute_url() if may_open else "",
                ),
                PanelCell(text=allocation.payment.date.isoformat()),
                PanelCell(text=allocation.invoice.number or ""),
                PanelCell(text=allocation.payment.get_method_display()),
                PanelCell(text=intcomma(allocation.amount), numeric=True),
            ]
            for allocation in allocations
        ],
        empty_text=_("No payment yet."),
    )

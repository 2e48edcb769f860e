"""The invoices section of the order page and the finance home queues (orders never imports
billing: settings.ORDER_PAGE_PANELS and HOME_QUEUE_PROVIDERS name these)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Invoice, InvoiceStatus
from billing.selectors import may_read_invoices, orders_to_invoice, visible_invoices
from config.home import WorkQueue, work_queue
from config.roles import FINANCE, has_role
from customers.types import CustomerPanel, PanelCell, PanelColumn
from orders.invoicing import INVOICEABLE_STATUSES, PREPAYABLE_STATUSES, invoiceable_quantity


def order_invoices_panel(*, order, user) -> CustomerPanel | None:
    """The order's invoices (number, status, payment, total) and what is invoiced per line (two queries)."""
    if not may_read_invoices(user):
        return None
    invoices = list(
        visible_invoices(user=user)
        .filter(lines__order=order)
        .exclude(status=InvoiceStatus.CANCELLED)
        .distinct()
        .order_by("created_at", "pk")
    )
    lines = list(order.lines.order_by("position", "pk"))
    rows = [
        [
            PanelCell(str(invoice), url=invoice.get_absolute_url()),
            PanelCell(invoice.get_status_display(), badge=f"status status-{invoice.status}"),
            PanelCell(
                invoice.get_payment_state_display() if invoice.status == InvoiceStatus.ISSUED else "",
                badge=f"status status-{invoice.payment_state}" if invoice.status == InvoiceStatus.ISSUED else "",
            ),
            PanelCell(invoice.issued_at.date().isoformat() if invoice.issued_at else ""),
            PanelCell(invoice.due_date.isoformat() if invoice.due_date else ""),
            PanelCell(str(invoice.total_gross), numeric=True),
        ]
        for invoice in invoices
    ]
    per_line = "; ".join(
        _("line %(position)s: %(invoiced)s of %(kept)s invoiced")
        % {"position": line.position, "invoiced": line.quantity_invoiced, "kept": line.quantity_shipped - line.quantity_returned}
        for line in lines
        if line.quantity_shipped
    )
    chips = []
    waiting = sum(invoiceable_quantity(line) for line in lines)
    may_invoice = user.has_perm("billing.add_invoice")
    if may_invoice and waiting > 0 and order.status in INVOICEABLE_STATUSES:
        chips.append(
            PanelCell(
                _("%(units)s shipped units to invoice: create the invoice") % {"units": waiting},
                url=reverse("billing:invoice_create", args=[order.pk]),
                badge="status status-draft",
            )
        )
    elif may_invoice and order.status in PREPAYABLE_STATUSES and not invoices and order.customer.prepayment_required:
        chips.append(
            PanelCell(
                _("Prepayment invoice"), url=reverse("billing:invoice_create", args=[order.pk]), badge="status status-draft"
            )
        )
    return CustomerPanel(
        key="invoices",
        title=_("Invoices"),
        count=len(invoices),
        chips=chips,
        columns=[
            PanelColumn(_("Number")),
            PanelColumn(_("Status")),
            PanelColumn(_("Payment")),
            PanelColumn(_("Issued")),
            PanelColumn(_("Due date")),
            PanelColumn(_("Total"), numeric=True),
        ],
        rows=rows,
        empty_text=_("Not invoiced yet."),
        footnote=(_("Invoiced per line: %(lines)s.") % {"lines": per_line}) if per_line else "",
    )


def home_queues(user) -> list[WorkQueue]:
    """Finance sees the delivered orders not yet invoiced and the draft invoices to issue."""
    if not has_role(user, FINANCE) or not user.has_perm("billing.add_invoice"):
        return []
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT).order_by("created_at", "pk")
    queues = [
        work_queue(
            title=gettext_lazy("Delivered, not invoiced"),
            url=f"{reverse('billing:to_invoice')}?delivered=1",
            queryset=orders_to_invoice(),
            empty_text=gettext_lazy("Nothing delivered is waiting for an invoice."),
            role=FINANCE,
        ),
        work_queue(
            title=gettext_lazy("Draft invoices to issue"),
            url=f"{reverse('billing:invoice_list')}?status={InvoiceStatus.DRAFT}",
            queryset=drafts,
            empty_text=gettext_lazy("No draft invoice waits."),
            role=FINANCE,
        ),
    ]
    return queues

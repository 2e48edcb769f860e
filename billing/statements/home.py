"""Finance's home queues from receivables: invoices overdue, statements the customer disputed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice
from billing.statements.models import StatementState
from billing.statements.selectors import disputed_statements
from config.home import WorkQueue, work_queue
from config.roles import FINANCE, has_role


@dataclass(frozen=True)
class OverdueInvoice:
    """An overdue invoice in the queue: it opens its customer's line on the receivables page."""

    invoice: Invoice

    @property
    def queue_label(self) -> str:
        invoice = self.invoice
        return f"{invoice.number} · {invoice.customer.name} · {invoice.due_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return f"{reverse('billing:receivables')}?{urlencode({'q': self.invoice.customer.code, 'sort': 'overdue'})}"


def home_queues(user) -> list[WorkQueue]:
    """Finance staff see the invoices past their due date (oldest first) and the disputed statements."""
    if not has_role(user, FINANCE):
        return []
    queues = []
    if user.has_perm("billing.view_receivables"):
        overdue = Invoice.objects.open().filter(due_date__lt=timezone.localdate()).select_related("customer")
        queue = work_queue(
            title=_("Invoices overdue"),
            url=f"{reverse('billing:receivables')}?sort=overdue",
            queryset=overdue.order_by("due_date", "pk"),
            empty_text=_("No invoice is past its due date."),
            role=FINANCE,
        )
        queue.items = [OverdueInvoice(invoice) for invoice in queue.items]
        queues.append(queue)
    if user.has_perm("billing.view_customerstatement"):
        queues.append(
            work_queue(
                title=_("Statements disputed"),
                url=f"{reverse('billing:statement_list')}?state={StatementState.DISPUTED}",
                queryset=disputed_statements(),
                empty_text=_("No customer disputes a statement."),
                role=FINANCE,
            )
        )
    return queues

"""The customer page's receivables section: a credit hold, the latest statements and payment reminders."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.dunning.models import CreditHold, PaymentReminder
from billing.statements.models import CustomerStatement
from customers.models import Customer
from customers.types import CustomerPanel, PanelCell, PanelColumn

LATEST = 5


def customer_statements_panel(*, customer: Customer, user) -> CustomerPanel | None:
    """Finance and managers see whether the customer is on credit hold, and its latest statements and reminders."""
    may_statements = user.has_perm("billing.view_customerstatement")
    may_reminders = user.has_perm("billing.view_paymentreminder")
    if not (may_statements or may_reminders):
        return None
    chips = []
    hold = CreditHold.objects.filter(customer=customer, released_at__isnull=True).first() if may_reminders else None
    if hold is not None:
        chips.append(
            PanelCell(
                text=_("On credit hold since %(day)s: new orders go to review") % {"day": f"{hold.placed_at:%Y-%m-%d}"},
                url=reverse("billing:reminder_list"),
                badge="status status-blocked",
            )
        )
    if user.has_perm("billing.send_customerstatement"):
        chips.append(PanelCell(text=_("New statement"), url=f"{reverse('billing:statement_create')}?customer={customer.pk}"))
    rows = []
    if may_statements:
        for statement in CustomerStatement.objects.filter(customer=customer).order_by("-period_end", "-pk")[:LATEST]:
            rows.append(
                [
                    PanelCell(text=f"{statement.period_end:%Y-%m-%d}"),
                    PanelCell(
                        text=_("Statement %(start)s – %(end)s")
                        % {"start": f"{statement.period_start:%Y-%m-%d}", "end": f"{statement.period_end:%Y-%m-%d}"},
                        url=statement.get_absolute_url(),
                    ),
                    PanelCell(text=statement.get_state_display(), badge=f"status status-{statement.state}"),
                    PanelCell(text=intcomma(statement.closing_balance), numeric=True),
                ]
            )
    if may_reminders:
        for reminder in PaymentReminder.objects.filter(customer=customer).order_by("-created_at", "-pk")[:LATEST]:
            rows.append(
                [
                    PanelCell(text=f"{reminder.run_date:%Y-%m-%d}"),
                    PanelCell(text=reminder.get_kind_display(), url=reminder.get_absolute_url()),
                    PanelCell(text=_("e-mailed") if reminder.emailed_at else _("not e-mailed")),
                    PanelCell(text=intcomma(reminder.amount_overdue), numeric=True),
                ]
            )
    rows.sort(key=lambda row: row[0].text, reverse=True)
    return CustomerPanel(
        key="statements",
        title=_("Statements and reminders"),
        chips=chips,
        columns=[
            PanelColumn(_("Date")),
            PanelColumn(_("Document")),
            PanelColumn(_("State")),
            PanelColumn(_("Amount"), numeric=True),
        ],
        rows=rows,
        empty_text=_("No statement or payment reminder yet."),
    )

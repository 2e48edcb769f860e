"""The money section of the customer 360 page: balance, credit used, overdue, last payment and recent payments."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from billing.payments.models import Payment
from billing.payments.selectors import SEE_ALL, customer_money
from customers.models import Customer
from customers.types import CustomerPanel, PanelCell, PanelColumn
from orders.credit import customer_credit_exposure

RECENT_PAYMENTS = 10


def customer_payments_panel(*, customer: Customer, user) -> CustomerPanel | None:
    """What the customer owes and has paid (payment viewers: finance and managers, or the customer's salesperson)."""
    if not user.has_perm("billing.view_payment"):
        return None
    if not user.has_perm(SEE_ALL) and customer.salesperson_id != user.pk:
        return None
    money = customer_money(customer=customer)
    exposure = customer_credit_exposure(customer=customer)
    payments = list(Payment.objects.filter(customer=customer).order_by("-date", "-pk")[:RECENT_PAYMENTS])
    last = money.last_payment
    chips = [
        PanelCell(_("Balance: %(amount)s") % {"amount": intcomma(money.balance)}),
        PanelCell(
            _("Credit used: %(exposure)s of %(limit)s")
            % {"exposure": intcomma(exposure), "limit": intcomma(customer.credit_limit)},
            badge="status status-cancelled" if exposure > customer.credit_limit else "",
        ),
        PanelCell(
            _("Overdue: %(amount)s (%(count)s invoices)") % {"amount": intcomma(money.overdue), "count": money.overdue_count},
            badge="status payment-overdue" if money.overdue_count else "",
        ),
        PanelCell(_("Advances: %(amount)s") % {"amount": intcomma(money.advances)}),
        PanelCell(
            _("Last payment: %(date)s, %(amount)s") % {"date": last.date.isoformat(), "amount": intcomma(last.amount)}
            if last
            else _("No payment yet")
        ),
    ]
    return CustomerPanel(
        key="payments",
        title=_("Payments"),
        count=None,
        chips=chips,
        columns=[
            PanelColumn(_("Number")),
            PanelColumn(_("Date")),
            PanelColumn(_("Method")),
            PanelColumn(_("Amount"), numeric=True),
            PanelColumn(_("Unallocated"), numeric=True),
        ],
        rows=[
            [
                PanelCell(text=payment.number, url=payment.get_absolute_url()),
                PanelCell(text=payment.date.isoformat()),
                PanelCell(text=payment.get_method_display()),
                PanelCell(text=intcomma(payment.amount), numeric=True),
                PanelCell(text=intcomma(payment.unallocated) if payment.state == "recorded" else _("void"), numeric=True),
            ]
            for payment in payments
        ],
        empty_text=_("No payment yet."),
        footnote=_("The latest %(shown)s payments are shown.") % {"shown": RECENT_PAYMENTS}
        if len(payments) == RECENT_PAYMENTS
        else "",
    )

"""Demo invoices: the shipped demo orders invoiced through the services, issued and drafted, and a
red-letter credit note for part of one. Running it again adds nothing."""

from __future__ import annotations

from billing.credit_notes.services import CreditRequest, credit_note_draft, credit_note_issue
from billing.invoices.services import invoice_draft_from_orders, invoice_issue, invoice_update_draft
from billing.models import Invoice, InvoiceKind
from billing.selectors import orders_to_invoice
from config.errors import DomainError
from orders.invoicing import INVOICEABLE_STATUSES

# What becomes of the invoices of the first shipped orders, in order.
PLAN = ["issued_and_credited", "issued", "draft"]
DEMO_BANK_ACCOUNT = "中国工商银行上海浦东支行 1001 2345 6789 0123 456"


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _invoice(order, clerk, target: str) -> Invoice | None:
    invoice = invoice_draft_from_orders(orders=[order], by=clerk).invoice
    if invoice is None:
        return None
    if invoice.kind == InvoiceKind.SPECIAL:
        invoice = invoice_update_draft(invoice=invoice, by=clerk, buyer_bank_account=DEMO_BANK_ACCOUNT)
    if target == "draft":
        return invoice
    invoice = invoice_issue(invoice=invoice, by=clerk)
    if target == "issued_and_credited":
        line = invoice.lines.order_by("position").first()
        red_letter = "44010120260000000001" if invoice.kind == InvoiceKind.SPECIAL else ""
        if line.quantity > 1:
            request = CreditRequest(invoice_line_id=line.pk, quantity=1)
            reason = "sales_return"
        else:
            request = CreditRequest(invoice_line_id=line.pk, net=(line.net / 10).quantize(line.net))
            reason = "price_concession"
        note = credit_note_draft(invoice=invoice, reason=reason, requests=[request], red_letter_number=red_letter, by=clerk)
        credit_note_issue(credit_note=note, by=clerk)
    return invoice


def seed(*, users, stdout=None) -> None:
    """Invoices of the shipped demo orders: one issued and partly credited, one issued, one draft."""
    clerk = users.get("finance")
    if clerk is None or Invoice.objects.exists():
        return
    made = []
    for order, target in zip(orders_to_invoice(statuses=INVOICEABLE_STATUSES), PLAN, strict=False):
        try:
            invoice = _invoice(order, clerk, target)
        except DomainError as error:
            _say(stdout, f"Billing demo: {order.number} not invoiced ({error}).")
            continue
        if invoice is not None:
            made.append(str(invoice))
    _say(stdout, f"Billing demo: {len(made)} invoices ({', '.join(made)}).")

"""The payment status of orders, worked out from their invoices and stored on the order (orders.payment_status).

An order's invoices are the issued invoices with a line of it. Invoices fully taken back by credit
notes do not count. Nothing open: paid (refunded, when money went back on a credit note). Something
open: overdue once a due date has passed, partly paid when some money came, unpaid otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.models import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from config.actors import Actor
from config.money import ZERO
from orders.models import PaymentStatus, SalesOrder
from orders.payment_status import order_payment_status_set


def _status(invoices: list[Invoice], refunded: dict[int, object], today: date) -> str:
    refunded_any = any(refunded.get(invoice.pk, ZERO) > 0 for invoice in invoices)
    counted = [invoice for invoice in invoices if invoice.amount_credited < invoice.total_gross]
    if not counted:
        return PaymentStatus.REFUNDED if refunded_any else PaymentStatus.NOT_INVOICED
    open_invoices = [invoice for invoice in counted if invoice.open_amount > 0]
    if not open_invoices:
        return PaymentStatus.REFUNDED if refunded_any else PaymentStatus.PAID
    if any(invoice.due_date is not None and invoice.due_date < today for invoice in open_invoices):
        return PaymentStatus.OVERDUE
    if any(invoice.amount_paid > 0 for invoice in counted):
        return PaymentStatus.PARTLY_PAID
    return PaymentStatus.UNPAID


def _orders_invoices(order_ids: set[int]) -> tuple[dict[int, set[int]], dict[int, Invoice], dict[int, Decimal]]:
    """The orders' issued invoices {order id: invoice ids}, the invoices, and what credit notes refunded on each."""
    pairs = (
        InvoiceLine.objects.filter(order_id__in=order_ids, invoice__status=InvoiceStatus.ISSUED)
        .order_by()
        .values_list("order_id", "invoice_id")
        .distinct()
    )
    invoices_of: dict[int, set[int]] = defaultdict(set)
    for order_id, invoice_id in pairs:
        invoices_of[order_id].add(invoice_id)
    invoice_ids = {pk for ids in invoices_of.values() for pk in ids}
    invoices = Invoice.objects.in_bulk(invoice_ids)
    refunded = dict(
        CreditNote.objects.filter(invoice_id__in=invoice_ids, amount_refunded__gt=0)
        .order_by()
        .values("invoice_id")
        .annotate(total=Sum("amount_refunded"))
        .values_list("invoice_id", "total")
    )
    return invoices_of, invoices, refunded


def order_payment_statuses(*, order_ids: Iterable[int], today: date | None = None) -> dict[int, str]:
    """{order id: payment status} from the orders' issued invoices, in three queries."""
    order_ids = set(order_ids)
    today = today or timezone.localdate()
    invoices_of, invoices, refunded = _orders_invoices(order_ids)
    return {
        order_id: _status([invoices[pk] for pk in sorted(invoices_of.get(order_id, ()))], refunded, today)
        for order_id in order_ids
    }


def order_payment_status_steps(*, steps: Sequence[Mapping[int, Decimal]], today: date | None = None) -> list[dict[int, str]]:
    """The payment status of the orders on each payment's invoices after each of several payments
    allocated in turn ({invoice id: amount} per payment, not yet written): what
    order_payment_statuses would say after each one, worked out in memory from four queries."""
    today = today or timezone.localdate()
    order_ids = orders_of_invoices({invoice_id for step in steps for invoice_id in step})
    if not order_ids:
        return [{} for _step in steps]
    invoices_of, invoices, refunded = _orders_invoices(order_ids)
    orders_of: dict[int, set[int]] = defaultdict(set)
    for order_id, invoice_ids in invoices_of.items():
        for invoice_id in invoice_ids:
            orders_of[invoice_id].add(order_id)
    result = []
    for step in steps:
        for invoice_id, amount in step.items():
            if invoice_id in invoices:
                invoices[invoice_id].amount_paid += amount
        touched = {order_id for invoice_id in step for order_id in orders_of.get(invoice_id, ())}
        result.append(
            {
                order_id: _status([invoices[pk] for pk in sorted(invoices_of[order_id])], refunded, today)
                for order_id in sorted(touched)
            }
        )
    return result


def orders_of_invoices(invoice_ids: Iterable[int]) -> set[int]:
    """The orders with a line on any of these invoices."""
    return set(
        InvoiceLine.objects.filter(invoice_id__in=list(invoice_ids), order_id__isnull=False)
        .order_by()
        .values_list("order_id", flat=True)
        .distinct()
    )


def orders_payment_status_refresh(*, invoice_ids: Iterable[int], by) -> list[SalesOrder]:
    """Work out again and store the payment status of every order on these invoices (and complete
    the orders that are now delivered, fully invoiced and paid). Runs in the caller's transaction,
    after its invoice locks."""
    order_ids = orders_of_invoices(invoice_ids)
    if not order_ids:
        return []
    return order_payment_status_set(statuses=order_payment_statuses(order_ids=order_ids), by=Actor.of(by))

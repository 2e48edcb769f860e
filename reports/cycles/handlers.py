"""Outbox handlers: an event about an order, its shipment, exception, invoice or payment marks the order for the next
batch refresh of its cycle rows (reports.dirty); every order transition does (REPORTS_BATCHED_AREAS["cycles"]).
A refresh recomputes the rows from the business tables, so a mark handled twice changes nothing."""

from __future__ import annotations

from billing.models import CreditNote, Invoice, InvoiceLine
from logistics.exceptions.models import DeliveryException
from reports.dirty import dirty_mark

from .refresh import cycles_refresh_orders

AREA = "cycles"


def _orders_of_invoices(invoices) -> list[int]:
    return list(
        InvoiceLine.objects.filter(invoice__in=invoices, order_id__isnull=False)
        .order_by()
        .values_list("order_id", flat=True)
        .distinct()
    )


def refresh_orders(order_ids: list[int]) -> None:
    """The batch refresh of the marked orders (reports.dirty), set-based."""
    cycles_refresh_orders(order_ids=order_ids)


def refresh_exception_order(payload: dict) -> None:
    """A delivery exception was opened (payload: order) or resolved (payload: the exception's id)."""
    if "order" in payload:
        order_ids = [payload["order"]]
    else:
        order_ids = list(DeliveryException.objects.filter(pk=payload["id"]).values_list("order_id", flat=True))
    dirty_mark(area=AREA, keys=order_ids)


def refresh_invoice_orders(payload: dict) -> None:
    """An invoice was issued: its orders now owe money by a due date."""
    dirty_mark(area=AREA, keys=_orders_of_invoices(Invoice.objects.filter(pk=payload["id"])))


def refresh_credit_note_orders(payload: dict) -> None:
    """A credit note was issued: its invoice's orders may owe less, or nothing."""
    invoices = Invoice.objects.filter(pk__in=CreditNote.objects.filter(pk=payload["id"]).values("invoice_id"))
    dirty_mark(area=AREA, keys=_orders_of_invoices(invoices))


def refresh_paid_orders(payload: dict) -> None:
    """A payment was received or allocated: the orders of the invoices it paid (named by number in the payload)."""
    numbers = list(payload.get("invoices", [])) + [row[0] for row in payload.get("allocations", [])]
    if numbers:
        dirty_mark(area=AREA, keys=_orders_of_invoices(Invoice.objects.filter(number__in=numbers)))

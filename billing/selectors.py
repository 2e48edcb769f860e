"""Reads of invoices and credit notes that other areas use (payments, receivables, the review's rules)."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.lookups import GreaterThan

from config.roles import SALES, has_role
from config.rows import hot_cursor
from orders.models import OPEN_COMMITTED, OrderStatus, SalesOrder, SalesOrderLine, units_to_invoice

from .models import CreditNote, Invoice, InvoiceLine, InvoiceStatus


def open_invoices(customer) -> QuerySet[Invoice]:
    """The customer's issued invoices with money still owed (gross − credited − paid > 0), oldest due first."""
    return Invoice.objects.filter(customer=customer).open().order_by("due_date", "pk")


def overdue_invoices(customer, days: int = 0, *, on: date | None = None) -> QuerySet[Invoice]:
    """The customer's open invoices more than `days` days past their due date (today, or `on`)."""
    return Invoice.objects.filter(customer=customer).overdue(on=on, days=days).order_by("due_date", "pk")


def order_lines_on_prepayment_invoices(*, customer) -> set[int]:
    """settings.PREPAID_ORDER_LINES_PROVIDER: the customer's open orders' lines on an issued prepayment
    invoice not wholly taken back by credit notes (the credit exposure counts them as receivables)."""
    quote = connection.ops.quote_name
    invoice_lines, invoices = quote(InvoiceLine._meta.db_table), quote(Invoice._meta.db_table)
    order_lines, orders = quote(SalesOrderLine._meta.db_table), quote(SalesOrder._meta.db_table)
    statuses = ", ".join(f"'{status}'" for status in OPEN_COMMITTED)
    # Raw SQL, prepared (config.rows.hot_cursor): the order review reads this on every order, and nearly always
    # finds nothing.
    with hot_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT il.order_line_id FROM {invoice_lines} il
              JOIN {invoices} i ON i.id = il.invoice_id
              JOIN {order_lines} ol ON ol.id = il.order_line_id
              JOIN {orders} o ON o.id = ol.order_id
             WHERE i.customer_id = %s AND i.is_prepayment AND i.status IN (%s) AND i.total_gross > i.amount_credited
               AND o.status IN ({statuses})
            """,
            [customer.pk, InvoiceStatus.ISSUED.value],
        )
        return {row[0] for row in cursor.fetchall()}


def sees_all_invoices(user) -> bool:
    """Finance and managers (billing.view_invoice) see every invoice."""
    return user.has_perm("billing.view_invoice")


def reads_own_invoices(user) -> bool:
    """Sales staff read the invoices of their own orders and customers (not the receivables as a whole)."""
    return user.has_perm("orders.view_salesorder") and has_role(user, SALES)


def may_read_invoices(user) -> bool:
    return sees_all_invoices(user) or reads_own_invoices(user)


def visible_invoices(*, user) -> QuerySet[Invoice]:
    """The invoices this user may read."""
    invoices = Invoice.objects.all()
    if sees_all_invoices(user):
        return invoices
    if not reads_own_invoices(user):
        return invoices.none()
    own_lines = InvoiceLine.objects.filter(order__created_by=user).values("invoice_id")
    return invoices.filter(Q(pk__in=own_lines) | Q(customer__salesperson=user))


def visible_credit_notes(*, user) -> QuerySet[CreditNote]:
    """The credit notes this user may read (those of the invoices they may read)."""
    notes = CreditNote.objects.all()
    if sees_all_invoices(user) and user.has_perm("billing.view_creditnote"):
        return notes
    return notes.filter(invoice__in=visible_invoices(user=user))


def invoice_search(queryset: QuerySet[Invoice], text: str) -> QuerySet[Invoice]:
    """By invoice number, fapiao number, buyer's name or tax ID, or an order number on it."""
    text = (text or "").strip()
    if not text:
        return queryset
    on_order = InvoiceLine.objects.filter(order__number__iexact=text).values("invoice_id")
    return queryset.filter(
        Q(number__icontains=text)
        | Q(fapiao_number=text)
        | Q(buyer_name__icontains=text)
        | Q(buyer_tax_id=text.upper())
        | Q(customer__code__iexact=text)
        | Q(pk__in=on_order)
    )


def invoice_detail(*, pk: int, user) -> Invoice:
    """One invoice the user may read, with its customer and author (404 otherwise)."""
    return visible_invoices(user=user).select_related("customer", "created_by").get(pk=pk)


def invoice_lines(*, invoice: Invoice) -> list[InvoiceLine]:
    return list(invoice.lines.select_related("order", "product").order_by("position", "pk"))


def orders_to_invoice(*, statuses=None) -> QuerySet[SalesOrder]:
    """Shipped or delivered orders with units shipped, not returned and not yet invoiced, oldest first."""
    # Written as the partial index order_line_to_invoice is (orders.models.units_to_invoice): few lines match it.
    waiting = SalesOrderLine.objects.filter(GreaterThan(units_to_invoice(), 0), order=OuterRef("pk"))
    return (
        SalesOrder.objects.filter(status__in=statuses or [OrderStatus.DELIVERED])
        .filter(Exists(waiting))
        .select_related("customer")
        .order_by("approved_at", "pk")
    )

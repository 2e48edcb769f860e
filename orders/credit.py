"""Credit exposure: what a customer owes and has committed, read above customers (it needs orders).

Exposure = open receivables (from billing, through settings.RECEIVABLES_PROVIDER, since orders never
imports billing) + approved orders' value not yet invoiced (+ the order being checked). An order
line on a prepayment invoice is invoiced already: its money is in the receivables while unpaid and
nowhere once paid, never also in the approved orders' value (settings.PREPAID_ORDER_LINES_PROVIDER).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils.module_loading import import_string

from config.money import ZERO, decimal_from_db, round_money
from config.rows import hot_cursor
from customers.models import Customer
from orders.models import OPEN_COMMITTED, SalesOrder, SalesOrderLine


def customer_open_receivables(*, customer: Customer) -> Decimal:
    """What the customer's issued invoices still have open, less their unused advances (billing's provider; zero without it)."""
    path = getattr(settings, "RECEIVABLES_PROVIDER", "")
    if not path:
        return ZERO
    return import_string(path)(customer=customer)


def customer_lines_invoiced_in_advance(*, customer: Customer) -> set[int]:
    """The customer's open order lines on a prepayment invoice (billing's provider; none without it)."""
    path = getattr(settings, "PREPAID_ORDER_LINES_PROVIDER", "")
    return set(import_string(path)(customer=customer)) if path else set()


def _committed_sql() -> str:
    quote = connection.ops.quote_name
    orders, lines = quote(SalesOrder._meta.db_table), quote(SalesOrderLine._meta.db_table)
    statuses = ", ".join(f"'{status}'" for status in OPEN_COMMITTED)
    # Both sums in one statement (the check runs on every order): the open orders' totals, and the gross value of
    # their lines' settled units (cancelled, returned, invoiced). "* 1.0" keeps SQLite from dividing integers.
    return f"""
        SELECT
          (SELECT SUM(o.total) FROM {orders} o
            WHERE o.customer_id = %s AND o.status IN ({statuses}) AND o.id <> %s),
          (SELECT SUM(l.line_total * 1.0 * (l.quantity_cancelled + l.quantity_returned + l.quantity_invoiced) / l.quantity)
             FROM {lines} l JOIN {orders} o ON o.id = l.order_id
            WHERE o.customer_id = %s AND o.status IN ({statuses}) AND o.id <> %s
              AND (l.quantity_cancelled <> 0 OR l.quantity_returned <> 0 OR l.quantity_invoiced <> 0))
    """


def customer_committed_not_invoiced(*, customer: Customer, exclude_order_id: int | None = None) -> Decimal:
    """Approved orders' totals less the gross value of their units invoiced, cancelled or returned,
    and less what is left of the lines a prepayment invoice already invoiced."""
    excluded = exclude_order_id or 0  # ids start at 1
    with hot_cursor() as cursor:
        cursor.execute(_committed_sql(), [customer.pk, excluded, customer.pk, excluded])
        committed, settled = cursor.fetchone()
    not_owed = decimal_from_db(settled)
    in_advance = customer_lines_invoiced_in_advance(customer=customer)
    if in_advance:
        settled_units = F("quantity_cancelled") + F("quantity_returned") + F("quantity_invoiced")
        money = DecimalField(max_digits=30, decimal_places=10)
        rest = ExpressionWrapper(F("line_total") * (F("quantity") - settled_units) / F("quantity"), output_field=money)
        lines = SalesOrderLine.objects.filter(pk__in=in_advance, order__status__in=OPEN_COMMITTED).exclude(order_id=excluded)
        not_owed += lines.order_by().aggregate(total=Sum(rest))["total"] or ZERO
    return round_money(decimal_from_db(committed) - not_owed)


def customer_credit_exposure(*, customer: Customer, extra: Decimal = ZERO, exclude_order_id: int | None = None) -> Decimal:
    """Open receivables + approved orders not yet invoiced (+ `extra`, e.g. the order being checked)."""
    committed = customer_committed_not_invoiced(customer=customer, exclude_order_id=exclude_order_id)
    receivables = customer_open_receivables(customer=customer)
    return round_money(receivables + committed + extra)  # SQLite's SUM carries extra digits; money is cents


def customer_available_credit(*, customer: Customer) -> Decimal:
    return customer.credit_limit - customer_credit_exposure(customer=customer)

"""Reads of customer statements: a customer's account for a period (what a statement is made of),
the statements list, who had activity in a month, and finance's "statements disputed" queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.ageing import customer_ageing
from billing.models import CreditNote, CreditNoteStatus, Invoice, InvoiceStatus
from billing.payments.models import Payment, PaymentRecordState, Refund, RefundState, WriteOff
from billing.statements.models import CustomerStatement, StatementState
from config.money import ZERO, round_money
from customers.models import Customer
from orders.models import OrderStatus, SalesOrderLine, units_to_invoice

MONEY = DecimalField(max_digits=14, decimal_places=2)

# Entry kinds; debit raises what the customer owes, credit lowers it.
INVOICE, CREDIT_NOTE, PAYMENT, REFUND, WRITE_OFF = "invoice", "credit_note", "payment", "refund", "write_off"


@dataclass
class StatementFigures:
    """One customer's account for one period, every amount a Decimal."""

    opening_balance: Decimal = ZERO
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    written_off: Decimal = ZERO
    delivered_not_invoiced: Decimal = ZERO
    entries: list[dict] = field(default_factory=list)
    uninvoiced: list[dict] = field(default_factory=list)
    ageing: list[dict] = field(default_factory=list)

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.invoiced - self.credited - self.paid + self.refunded - self.written_off

    @property
    def has_activity(self) -> bool:
        return bool(self.entries)


def _sum(queryset: QuerySet, column: str) -> Decimal:
    return queryset.aggregate(total=Coalesce(Sum(column, output_field=MONEY), Value(ZERO)))["total"]


def _invoices(customer: Customer) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED)


def _credit_notes(customer: Customer) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(customer=customer, status=CreditNoteStatus.ISSUED)


def _payments(customer: Customer) -> QuerySet[Payment]:
    return Payment.objects.filter(customer=customer).exclude(state=PaymentRecordState.VOID)


def _refunds(customer: Customer) -> QuerySet[Refund]:
    return Refund.objects.filter(customer=customer, state=RefundState.PAID)


def _write_offs(customer: Customer) -> QuerySet[WriteOff]:
    return WriteOff.objects.filter(customer=customer, reversed_at__isnull=True)


def _balance_before(customer: Customer, start: date) -> Decimal:
    """What the customer owed at the start of `start`: every document and payment dated before it."""
    write_offs = _write_offs(customer).filter(created_at__date__lt=start)
    return (
        _sum(_invoices(customer).filter(issued_at__date__lt=start), "total_gross")
        - _sum(_credit_notes(customer).filter(issued_at__date__lt=start), "total_gross")
        - _sum(_payments(customer).filter(date__lt=start), "amount")
        + _sum(_refunds(customer).filter(paid_on__lt=start), "amount")
        - _sum(write_offs.filter(invoice__isnull=False), "amount")
        + _sum(write_offs.filter(payment__isnull=False), "amount")
    )


def _entry(*, on: date, kind: str, number: str, debit: Decimal = ZERO, credit: Decimal = ZERO, due: date | None = None) -> dict:
    return {
        "date": on.isoformat(),
        "kind": kind,
        "number": number or "",
        "due_date": due.isoformat() if due else "",
        "debit": str(debit),
        "credit": str(credit),
    }


def _local_date(moment) -> date:
    return timezone.localdate(moment)


def period_entries(customer: Customer, start: date, end: date) -> list[dict]:
    """Every invoice, credit note, payment, refund and write-off of the period, in date order."""
    entries = []
    for number, issued_at, due, gross in (
        _invoices(customer)
        .filter(issued_at__date__range=(start, end))
        .values_list("number", "issued_at", "due_date", "total_gross")
        .order_by("issued_at", "pk")
    ):
        entries.append(_entry(on=_local_date(issued_at), kind=INVOICE, number=number, debit=gross, due=due))
    for number, issued_at, gross in (
        _credit_notes(customer)
        .filter(issued_at__date__range=(start, end))
        .values_list("number", "issued_at", "total_gross")
        .order_by("issued_at", "pk")
    ):
        entries.append(_entry(on=_local_date(issued_at), kind=CREDIT_NOTE, number=number, credit=gross))
    for number, on, amount in (
        _payments(customer).filter(date__range=(start, end)).values_list("number", "date", "amount").order_by("date", "pk")
    ):
        entries.append(_entry(on=on, kind=PAYMENT, number=number, credit=amount))
    for number, on, amount in (
        _refunds(customer)
        .filter(paid_on__range=(start, end))
        .values_list("number", "paid_on", "amount")
        .order_by("paid_on", "pk")
    ):
        entries.append(_entry(on=on, kind=REFUND, number=number, debit=amount))
    for created_at, amount, invoice_number, payment_number in (
        _write_offs(customer)
        .filter(created_at__date__range=(start, end))
        .values_list("created_at", "amount", "invoice__number", "payment__number")
        .order_by("created_at", "pk")
    ):
        on = _local_date(created_at)
        if invoice_number:
            entries.append(_entry(on=on, kind=WRITE_OFF, number=invoice_number, credit=amount))
        else:
            entries.append(_entry(on=on, kind=WRITE_OFF, number=payment_number, debit=amount))
    kind_order = {INVOICE: 0, CREDIT_NOTE: 1, PAYMENT: 2, REFUND: 3, WRITE_OFF: 4}
    entries.sort(key=lambda e: (e["date"], kind_order[e["kind"]], e["number"]))
    return entries


def delivered_not_invoiced(customer: Customer) -> list[dict]:
    """Order lines with goods delivered but not yet invoiced: shipped − returned − invoiced units,
    valued at the line's gross (net + tax) per unit, rounded per line."""
    lines = (
        SalesOrderLine.objects.filter(order__customer=customer)
        .exclude(order__status=OrderStatus.CANCELLED)
        .annotate(uninvoiced=units_to_invoice())
        .filter(uninvoiced__gt=0)
        .values_list("order__number", "position", "description", "uninvoiced", "quantity", "line_total")
        .order_by("order__number", "position")
    )
    rows = []
    for order, position, description, units, quantity, line_total in lines:
        amount = round_money(line_total * units / quantity)
        rows.append({"order": order, "position": position, "description": description, "quantity": units, "amount": str(amount)})
    return rows


def statement_figures(*, customer: Customer, period_start: date, period_end: date) -> StatementFigures:
    """The customer's account for the period: opening balance, the period's entries, what was
    delivered but not invoiced, and the ageing of what is open on the period's last day."""
    entries = period_entries(customer, period_start, period_end)
    figures = StatementFigures(opening_balance=_balance_before(customer, period_start), entries=entries)
    for entry in entries:
        debit, credit = Decimal(entry["debit"]), Decimal(entry["credit"])
        if entry["kind"] == INVOICE:
            figures.invoiced += debit
        elif entry["kind"] == CREDIT_NOTE:
            figures.credited += credit
        elif entry["kind"] == PAYMENT:
            figures.paid += credit
        elif entry["kind"] == REFUND:
            figures.refunded += debit
        else:
            figures.written_off += credit - debit
    figures.uninvoiced = delivered_not_invoiced(customer)
    figures.delivered_not_invoiced = sum((Decimal(row["amount"]) for row in figures.uninvoiced), ZERO)
    figures.ageing = [
        {"key": bucket.key, "first": bucket.first, "last": bucket.last, "amount": str(amount)}
        for bucket, amount in customer_ageing(customer_id=customer.pk, as_of=period_end)
    ]
    return figures


def customers_with_activity(*, period_start: date, period_end: date) -> QuerySet[Customer]:
    """Customers with an invoice, credit note or payment in the period (who get a monthly statement)."""
    invoiced = Invoice.objects.filter(status=InvoiceStatus.ISSUED, issued_at__date__range=(period_start, period_end))
    credited = CreditNote.objects.filter(status=CreditNoteStatus.ISSUED, issued_at__date__range=(period_start, period_end))
    paid = Payment.objects.filter(date__range=(period_start, period_end)).exclude(state=PaymentRecordState.VOID)
    ids = (
        set(invoiced.values_list("customer_id", flat=True))
        | set(credited.values_list("customer_id", flat=True))
        | set(paid.values_list("customer_id", flat=True))
    )
    return Customer.objects.filter(pk__in=ids).order_by("pk")


def statement_list(*, state: str = "", customer_id: int | None = None, period: str = "", search: str = "") -> QuerySet:
    """Statements, latest period first, narrowed by state, customer, period (YYYY-MM: the month it
    ends in) and a customer code or name search."""
    statements = CustomerStatement.objects.select_related("customer")
    if state:
        statements = statements.filter(state=state)
    if customer_id:
        statements = statements.filter(customer_id=customer_id)
    if period:
        year, month = (int(part) for part in period.split("-"))
        statements = statements.filter(period_end__year=year, period_end__month=month)
    search = (search or "").strip()
    if search:
        statements = statements.filter(
            Q(customer__code__iexact=search) | Q(customer__name__icontains=search) | Q(customer__alt_name__icontains=search)
        )
    return statements.order_by("-period_end", "customer__name", "-pk")


def disputed_statements() -> QuerySet[CustomerStatement]:
    return (
        CustomerStatement.objects.filter(state=StatementState.DISPUTED).select_related("customer").order_by("responded_at", "pk")
    )

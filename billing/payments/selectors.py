"""Reads of payments and refunds: who may see which, lists, the customer's open invoices and credit,
receivables for the credit exposure, and the finance home's queues."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.models import CreditNote, CreditNoteStatus, Invoice, InvoiceStatus
from billing.payments.models import Payment, PaymentRecordState, Refund, RefundState, WriteOff
from config.home import WorkQueue, work_queue
from config.money import ZERO, money_from_db, round_money
from config.roles import FINANCE, user_roles
from config.rows import hot_cursor
from customers.models import Customer

SEE_ALL = "billing.view_all_payment"


def payments_visible_to(user) -> QuerySet[Payment]:
    """Every payment for finance and managers; a salesperson sees the payments of their own customers."""
    payments = Payment.objects.select_related("customer")
    if user.has_perm(SEE_ALL):
        return payments
    return payments.filter(customer__salesperson=user)


def refunds_visible_to(user) -> QuerySet[Refund]:
    refunds = Refund.objects.select_related("customer", "payment", "credit_note")
    if user.has_perm(SEE_ALL):
        return refunds
    return refunds.filter(customer__salesperson=user)


def payment_search(queryset: QuerySet[Payment], text: str) -> QuerySet[Payment]:
    """By payment number, reference, payer, bill number, or the customer's name or code."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(number__icontains=text)
        | Q(reference__icontains=text)
        | Q(payer_name__icontains=text)
        | Q(bill_number__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(customer__code__icontains=text)
    )


def with_rest(queryset: QuerySet[Payment]) -> QuerySet[Payment]:
    """Recorded payments with money not yet allocated, written off or refunded (the customer's advances)."""
    return queryset.filter(state=PaymentRecordState.RECORDED).filter(
        amount__gt=F("amount_allocated") + F("amount_written_off") + F("amount_refunded")
    )


def open_invoices(*, customer: Customer) -> list[Invoice]:
    """The customer's issued invoices with money still owed, oldest due first (what a payment can pay)."""
    return list(Invoice.objects.filter(customer=customer).open().order_by("due_date", "pk"))


def customer_advances(*, customer: Customer) -> Decimal:
    """What the customer paid and no invoice uses yet."""
    rest = F("amount") - F("amount_allocated") - F("amount_written_off") - F("amount_refunded")
    return with_rest(Payment.objects.filter(customer=customer)).aggregate(total=Sum(rest))["total"] or ZERO


def invoice_money_back(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """(money received for the invoice beyond what it now asks, what its credit notes already pay back).
    Received is what payments allocated to it, not what was written off (gross − credited is what it asks)."""
    written_off = (
        WriteOff.objects.filter(invoice_id=invoice.pk, reversed_at__isnull=True).aggregate(total=Sum("amount"))["total"] or ZERO
    )
    refunded = CreditNote.objects.filter(invoice_id=invoice.pk).aggregate(total=Sum("amount_refunded"))["total"] or ZERO
    received = invoice.amount_paid - written_off
    return received - (invoice.total_gross - invoice.amount_credited), refunded


def credit_note_refundable(credit_note: CreditNote, invoice: Invoice) -> Decimal:
    """What may still be paid back on a credit note: money the customer actually paid for the invoice
    beyond what it now asks, less what its credit notes already refund, and at most the credit note's
    own rest (nothing, when the invoice was not paid beyond it: a credit on an unpaid invoice only
    lowers what is owed). A caller that acts on it reads both rows under lock."""
    overpaid, refunded = invoice_money_back(invoice)
    return max(min(overpaid - refunded, credit_note.total_gross - credit_note.amount_refunded), ZERO)


def refundable_credit_notes(*, customer: Customer) -> list[tuple[CreditNote, Decimal]]:
    """The customer's issued credit notes with money to pay back, and how much each."""
    notes = CreditNote.objects.filter(customer=customer, status=CreditNoteStatus.ISSUED).select_related("invoice")
    found = []
    left_per_invoice: dict[int, Decimal] = {}
    for note in notes.order_by("issued_at", "pk"):
        invoice = note.invoice
        if invoice.pk not in left_per_invoice:
            overpaid, refunded = invoice_money_back(invoice)
            left_per_invoice[invoice.pk] = overpaid - refunded
        refundable = max(min(left_per_invoice[invoice.pk], note.total_gross - note.amount_refunded), ZERO)
        if refundable > 0:
            found.append((note, refundable))
    return found


def _receivables_sql() -> str:
    quote = connection.ops.quote_name
    invoices, notes, payments = (quote(m._meta.db_table) for m in (Invoice, CreditNote, Payment))
    # The three sums in one statement: the order review reads them on every order.
    return f"""
        SELECT
          COALESCE((SELECT SUM(total_gross - amount_credited - amount_paid) FROM {invoices}
                     WHERE customer_id = %(customer)s AND status = %(issued)s), 0)
        + COALESCE((SELECT SUM(amount_refunded) FROM {notes}
                     WHERE customer_id = %(customer)s AND status = %(issued_note)s), 0)
        - COALESCE((SELECT SUM(amount - amount_allocated - amount_written_off - amount_refunded) FROM {payments}
                     WHERE customer_id = %(customer)s AND state = %(recorded)s
                       AND amount > amount_allocated + amount_written_off + amount_refunded), 0)
    """


def customer_open_receivables(*, customer: Customer) -> Decimal:
    """settings.RECEIVABLES_PROVIDER: what the customer owes on issued invoices (gross − credited − paid,
    plus what credit notes already paid back) less their unused advances; negative when they are in credit."""
    params = {
        "customer": customer.pk,
        "issued": InvoiceStatus.ISSUED.value,
        "issued_note": CreditNoteStatus.ISSUED.value,
        "recorded": PaymentRecordState.RECORDED.value,
    }
    with hot_cursor() as cursor:  # the order review reads this on every order: prepared (config.rows)
        cursor.execute(_receivables_sql(), params)
        return money_from_db(cursor.fetchone()[0])


@dataclass(frozen=True)
class CustomerMoney:
    """The customer's money at a glance (the customer page's payments section)."""

    balance: Decimal  # receivables less advances
    advances: Decimal
    overdue: Decimal
    overdue_count: int
    last_payment: Payment | None


def customer_money(*, customer: Customer) -> CustomerMoney:
    overdue = Invoice.objects.filter(customer=customer).overdue()
    overdue_total = overdue.aggregate(total=Sum(F("total_gross") - F("amount_credited") - F("amount_paid")))["total"] or ZERO
    return CustomerMoney(
        balance=customer_open_receivables(customer=customer),
        advances=customer_advances(customer=customer),
        overdue=round_money(overdue_total),
        overdue_count=overdue.count(),
        last_payment=Payment.objects.filter(customer=customer, state=PaymentRecordState.RECORDED)
        .order_by("-date", "-pk")
        .first(),
    )


def home_queues(user) -> list[WorkQueue]:
    """Finance's queues: refunds to pay, and payments not fully allocated (advances to use)."""
    groups = user_roles(user)
    if FINANCE not in groups or not user.has_perm("billing.view_payment"):
        return []
    return [
        work_queue(
            title=_("Refunds to pay"),
            url=reverse("billing:refund_list") + "?state=to_pay",
            queryset=Refund.objects.filter(state=RefundState.TO_PAY).select_related("customer").order_by("created_at", "pk"),
            empty_text=_("No refund waits to be paid."),
            role=FINANCE,
        ),
        work_queue(
            title=_("Payments to allocate"),
            url=reverse("billing:payment_list") + "?unallocated=on",
            queryset=with_rest(Payment.objects.select_related("customer")).order_by("date", "pk"),
            empty_text=_("Every payment is allocated."),
            role=FINANCE,
        ),
    ]


def oldest_first(*, invoices: list[Invoice], amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    """Spread an amount over open invoices, oldest due first, each up to its open amount (what is left stays an advance)."""
    allocations = []
    left = amount
    for invoice in invoices:
        if left <= 0:
            break
        share = min(left, invoice.open_amount)
        if share > 0:
            allocations.append((invoice, share))
            left -= share
    return allocations

"""Every write of money received and paid back: record a payment, allocate it to invoices, undo an
allocation, void a payment, write off a small difference, refund, and the acceptance bill's steps.

These are the stable entry points other areas call (bank reconciliation records and allocates
payments through them). Each runs in one transaction and takes row locks in one order:
the customer → payments → invoices (by id) → credit notes → orders (the payment status) → number
counter. Amounts are Decimal cents; the running totals on payments and invoices change in the same
transaction as the rows they sum, and an allocation never exceeds the invoice's open amount nor
the payment's unallocated rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CreditNote, CreditNoteEvent, CreditNoteStatus, Invoice, InvoiceEvent, InvoiceStatus
from billing.payments.models import (
    ALLOCATE_PERMISSION,
    BILL_PERMISSION,
    RECORD_PERMISSION,
    REFUND_PERMISSION,
    BillState,
    Payment,
    PaymentAllocation,
    PaymentEvent,
    PaymentMethod,
    PaymentRecordState,
    PaymentSource,
    Refund,
    RefundEvent,
    RefundState,
    WriteOff,
    WriteOffReason,
)
from billing.payments.selectors import credit_note_refundable, invoice_money_back
from billing.payments.status import order_payment_status_steps, orders_payment_status_refresh
from config.actors import Actor
from config.bulk import objects_like, rows_insert, rows_update
from config.errors import DomainError, PermissionRefused
from config.money import CENT, ZERO
from config.numbering import NumberBlock, document_number
from config.outbox import outbox_publish, outbox_publish_many
from config.transitions import transition_apply
from customers.models import Customer
from orders.payment_status import order_payment_status_set_in_turn

MAX_AMOUNT = Decimal("999999999999.99")
PAYMENT_RECEIVED = "billing.payment_received"
PAYMENT_ALLOCATED = "billing.payment_allocated"


@dataclass(frozen=True)
class BillDetails:
    """An acceptance bill (承兑汇票) a customer paid with: who drew it, its number, maturity and accepting bank."""

    drawer: str
    number: str
    maturity_date: date
    acceptor: str = ""


# --- checks and locks -------------------------------------------------------------------------------


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))


def _amount(value, *, field: str = "amount") -> Decimal:
    """A positive amount in whole cents, or a DomainError on the field."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(_("Enter an amount such as 1280.50."), code="invalid_amount", field=field) from None
    if isinstance(value, float) or not amount.is_finite():
        raise DomainError(_("Enter an amount such as 1280.50."), code="invalid_amount", field=field)
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."), code="invalid_amount", field=field)
    if amount > MAX_AMOUNT:
        raise DomainError(_("The amount is too large."), code="invalid_amount", field=field)
    if amount != amount.quantize(CENT):
        raise DomainError(_("An amount has at most two decimal places (cents)."), code="invalid_amount", field=field)
    return amount.quantize(CENT)


def write_off_limit() -> Decimal:
    """The largest difference one write-off may settle (settings.PAYMENT_WRITE_OFF_LIMIT)."""
    return Decimal(str(getattr(settings, "PAYMENT_WRITE_OFF_LIMIT", "1.00")))


def _lock_customer(customer_id: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer_id)


def _lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=payment_id)


def _lock_invoices(invoice_ids) -> dict[int, Invoice]:
    invoices = Invoice.objects.select_for_update(of=("self",)).filter(pk__in=sorted(set(invoice_ids))).order_by("pk")
    return {invoice.pk: invoice for invoice in invoices}


def _save_totals(obj: models.Model, *fields: str) -> None:
    """Write only the running totals (an issued invoice accepts nothing else)."""
    type(obj)._default_manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in fields})


def _refresh_orders(invoice_ids, actor: Actor) -> None:
    orders_payment_status_refresh(invoice_ids=invoice_ids, by=actor)


# --- recording and allocating ------------------------------------------------------------------------


def _wanted(allocations: Sequence[tuple[Invoice | int, Decimal]]) -> dict[int, Decimal]:
    """{invoice id: amount} of an allocation: at least one invoice, each once, each a positive amount in cents."""
    if not allocations:
        raise DomainError(_("Choose at least one invoice and an amount."), code="nothing_to_allocate")
    wanted: dict[int, Decimal] = {}
    for invoice, amount in allocations:
        invoice_id = invoice if isinstance(invoice, int) else invoice.pk
        if invoice_id in wanted:
            raise DomainError(_("Each invoice may appear once in an allocation."), code="duplicate_invoice")
        wanted[invoice_id] = _amount(amount)
    return wanted


def _allocation_refusal(
    *, number: str, rest: Decimal, customer_id: int, wanted: dict[int, Decimal], invoices: dict[int, Invoice]
) -> DomainError | None:
    """Why a payment (its number, customer and unallocated rest) may not pay these locked invoices: more
    than its rest, another customer's invoice, an invoice not issued, more than an invoice has open."""
    total = sum(wanted.values(), ZERO)
    if total > rest:
        return DomainError(
            _("Payment %(number)s has %(rest)s left to allocate; %(total)s was asked for.")
            % {"number": number, "rest": rest, "total": total},
            code="over_payment",
            params={"rest": rest, "total": total},
        )
    for invoice_id, amount in wanted.items():
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            return DomainError(_("An invoice of another customer cannot be paid by this payment."), code="other_customer")
        if invoice.status != InvoiceStatus.ISSUED:
            return DomainError(_("Invoice %(invoice)s is not issued.") % {"invoice": invoice}, code="invoice_not_issued")
        if amount > invoice.open_amount:
            return DomainError(
                _("Invoice %(invoice)s has %(open)s open; %(amount)s cannot be allocated to it.")
                % {"invoice": invoice.number, "open": max(invoice.open_amount, ZERO), "amount": amount},
                code="over_invoice",
                params={"invoice": invoice.number, "open": invoice.open_amount, "amount": amount},
            )
    return None


def _allocation_rows(
    *, payment: Payment, wanted: dict[int, Decimal], invoices: dict[int, Invoice], actor: Actor
) -> tuple[list[PaymentAllocation], PaymentEvent, list[InvoiceEvent]]:
    """The allocation rows of a payment and the timeline rows they write (the payment's, each invoice's)."""
    rows = [
        PaymentAllocation(payment=payment, invoice=invoices[invoice_id], amount=amount, created_by=actor.user_or_none)
        for invoice_id, amount in wanted.items()
    ]
    items = [[invoices[row.invoice_id].number, str(row.amount)] for row in rows]
    payment_event = PaymentEvent.build(payment, kind=PaymentEvent.Kind.ALLOCATED, actor=actor, params={"items": items})
    invoice_events = [
        InvoiceEvent.build(
            invoices[row.invoice_id],
            kind=InvoiceEvent.Kind.PAYMENT,
            actor=actor,
            params={"payment": payment.number, "amount": str(row.amount)},
        )
        for row in rows
    ]
    return rows, payment_event, invoice_events


def _allocate(*, payment: Payment, allocations: Sequence[tuple[Invoice, Decimal]], actor: Actor) -> list[PaymentAllocation]:
    """Allocate the locked payment to invoices: each at most its open amount, together at most the payment's rest."""
    wanted = _wanted(allocations)
    if payment.state != PaymentRecordState.RECORDED:
        raise DomainError(_("Payment %(number)s is void.") % {"number": payment.number}, code="payment_void")
    invoices = _lock_invoices(wanted)
    refusal = _allocation_refusal(
        number=payment.number, rest=payment.unallocated, customer_id=payment.customer_id, wanted=wanted, invoices=invoices
    )
    if refusal is not None:
        raise refusal
    for invoice_id, amount in wanted.items():
        invoices[invoice_id].amount_paid += amount
        _save_totals(invoices[invoice_id], "amount_paid")
    rows, payment_event, invoice_events = _allocation_rows(payment=payment, wanted=wanted, invoices=invoices, actor=actor)
    PaymentAllocation.objects.bulk_create(rows)
    payment.amount_allocated += sum(wanted.values(), ZERO)
    _save_totals(payment, "amount_allocated")
    payment_event.save()
    InvoiceEvent.objects.bulk_create(invoice_events)
    _refresh_orders(wanted, actor)
    return rows


def _receipt_refusal(*, method: str, date: date) -> DomainError | None:
    """What payment_record refuses in how and when the money came (the amount is checked by _amount)."""
    if method not in PaymentMethod.values:
        return DomainError(_("Choose how the money was paid."), code="invalid_method", field="method")
    if date > timezone.localdate():
        return DomainError(_("A payment cannot be received in the future."), code="future_date", field="date")
    return None


def _received_payload(payment: Payment, invoice_numbers: list[str]) -> dict:
    return {
        "id": payment.pk,
        "number": payment.number,
        "customer": payment.customer_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "method": payment.method,
        "invoices": invoice_numbers,
    }


@transaction.atomic
def payment_record(
    *,
    customer: Customer,
    amount: Decimal,
    date: date,
    method: str,
    by,
    payer_name: str = "",
    payer_account: str = "",
    reference: str = "",
    source: models.Model | None = None,
    bill: BillDetails | None = None,
    note: str = "",
    allocations: Sequence[tuple[Invoice, Decimal]] = (),
) -> Payment:
    """Record money received from a customer (and, in the same transaction, allocate it to invoices).

    `source` is what the payment came from, e.g. a bank statement line: one source records one
    payment (a second call for the same source is refused with code "source_already_recorded").
    An acceptance bill needs `bill` (drawer, number, maturity date). What is not allocated is the
    customer's advance. Publishes `billing.payment_received` after commit."""
    actor = Actor.of(by)
    _require(actor, RECORD_PERMISSION)
    amount = _amount(amount)
    refusal = _receipt_refusal(method=method, date=date)
    if refusal is not None:
        raise refusal
    bill_fields = {}
    if method == PaymentMethod.ACCEPTANCE_BILL:
        if bill is None or not bill.number.strip() or not bill.drawer.strip() or bill.maturity_date is None:
            raise DomainError(
                _("An acceptance bill needs its drawer, bill number and maturity date."), code="bill_details", field="bill_number"
            )
        bill_fields = {
            "bill_state": BillState.HELD,
            "bill_drawer": bill.drawer.strip(),
            "bill_acceptor": bill.acceptor.strip(),
            "bill_number": bill.number.strip(),
            "bill_maturity_date": bill.maturity_date,
        }
        if Payment.objects.filter(
            method=PaymentMethod.ACCEPTANCE_BILL, bill_number=bill_fields["bill_number"], state=PaymentRecordState.RECORDED
        ).exists():
            raise DomainError(
                _("Acceptance bill %(number)s was already received.") % {"number": bill_fields["bill_number"]},
                code="bill_already_received",
                field="bill_number",
            )
    source_fields = {}
    if source is not None:
        source_fields = {
            "source": PaymentSource.BANK_STATEMENT,
            "source_type": ContentType.objects.get_for_model(source),
            "source_id": source.pk,
        }
        if Payment.objects.filter(state=PaymentRecordState.RECORDED, **source_fields).exists():
            raise DomainError(_("A payment was already recorded for this line."), code="source_already_recorded")
    locked_customer = _lock_customer(customer.pk)
    try:
        with transaction.atomic():  # a concurrent twin trips the unique constraints: refused, not a server error
            payment = Payment.objects.create(
                number=document_number("payment"),
                customer=locked_customer,
                date=date,
                amount=amount,
                method=method,
                payer_name=payer_name.strip()[:200],
                payer_account=payer_account.strip()[:60],
                reference=reference.strip()[:100],
                note=note.strip(),
                created_by=actor.user_or_none,
                **bill_fields,
                **source_fields,
            )
    except IntegrityError:
        raise DomainError(
            _("This payment was already recorded (same bill number or bank statement line)."), code="already_recorded"
        ) from None
    PaymentEvent.record(payment, kind=PaymentEvent.Kind.RECORDED, actor=actor, params={"amount": str(amount), "method": method})
    rows = _allocate(payment=payment, allocations=allocations, actor=actor) if allocations else []
    outbox_publish(topic=PAYMENT_RECEIVED, payload=_received_payload(payment, [row.invoice.number for row in rows]))
    return payment


@dataclass(frozen=True)
class Receipt:
    """One payment for payments_record_bulk: a bank transfer from a source row (a bank statement
    line), allocated to invoices by id, with what payment_record takes besides."""

    customer_id: int
    amount: Decimal
    date: date
    source: models.Model
    allocations: tuple[tuple[int, Decimal], ...] = ()
    payer_name: str = ""
    payer_account: str = ""
    reference: str = ""


@transaction.atomic
def payments_record_bulk(*, receipts: Sequence[Receipt], by) -> list[Payment | DomainError]:
    """payment_record for many bank transfers at once (a statement's exact matches), in a fixed number
    of queries (plus one completion per order it settles): each receipt is checked as payment_record
    checks it, in turn, against what the receipts before it allocated, and leaves the same rows —
    numbers, allocations, paid amounts, timelines, orders' payment status, outbox events. A refused
    receipt records nothing and stands in the answer as its DomainError. A receipt whose source got
    a payment concurrently breaks the source's unique constraint: IntegrityError, nothing written."""
    actor = Actor.of(by)
    _require(actor, RECORD_PERMISSION)
    method = PaymentMethod.BANK_TRANSFER
    answers: list[Payment | DomainError | None] = [None] * len(receipts)
    checked: dict[int, tuple[Decimal, dict[int, Decimal], dict]] = {}
    for index, receipt in enumerate(receipts):
        try:
            amount = _amount(receipt.amount)
            refusal = _receipt_refusal(method=method, date=receipt.date)
            if refusal is not None:
                raise refusal
            wanted = _wanted(receipt.allocations) if receipt.allocations else {}
        except DomainError as error:
            answers[index] = error
            continue
        source_type = ContentType.objects.get_for_model(receipt.source)
        checked[index] = (amount, wanted, {"source_type": source_type, "source_id": receipt.source.pk})
    if not checked:
        return answers
    sources: dict[int, set[int]] = defaultdict(set)
    for *_money, fields in checked.values():
        sources[fields["source_type"].pk].add(fields["source_id"])
    by_source = Q()
    for type_id, ids in sources.items():  # the (source_type, source_id) index answers each
        by_source |= Q(source_type_id=type_id, source_id__in=sorted(ids))
    recorded_sources = set(
        Payment.objects.filter(by_source, state=PaymentRecordState.RECORDED).values_list("source_type_id", "source_id")
    )
    customers = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(pk__in=sorted({receipts[index].customer_id for index in checked}))
        .order_by("pk")
    }
    numbers = NumberBlock("payment")  # the counter before the invoices, as payment_record takes them
    invoices = _lock_invoices({invoice_id for _a, wanted, _f in checked.values() for invoice_id in wanted})
    payments: list[Payment] = []
    steps: list[dict[int, Decimal]] = []
    for index, (amount, wanted, source_fields) in checked.items():
        receipt = receipts[index]
        source_key = (source_fields["source_type"].pk, source_fields["source_id"])
        refusal = None
        if source_key in recorded_sources:
            refusal = DomainError(_("A payment was already recorded for this line."), code="source_already_recorded")
        elif receipt.customer_id not in customers:
            refusal = DomainError(_("This customer no longer exists."), code="not_found")
        elif wanted:
            refusal = _allocation_refusal(
                number=numbers.peek(), rest=amount, customer_id=receipt.customer_id, wanted=wanted, invoices=invoices
            )
        if refusal is not None:
            answers[index] = refusal
            continue
        recorded_sources.add(source_key)
        for invoice_id, share in wanted.items():
            invoices[invoice_id].amount_paid += share
        payment = Payment(
            number=numbers.take(),
            customer=customers[receipt.customer_id],
            date=receipt.date,
            amount=amount,
            method=method,
            payer_name=receipt.payer_name.strip()[:200],
            payer_account=receipt.payer_account.strip()[:60],
            reference=receipt.reference.strip()[:100],
            amount_allocated=sum(wanted.values(), ZERO),
            created_by=actor.user_or_none,
            source=PaymentSource.BANK_STATEMENT,
            **source_fields,
        )
        payments.append(payment)
        steps.append(wanted)
        answers[index] = payment
    numbers.close()
    if not payments:
        return answers
    rows_insert(payments)
    # The timelines, allocations and events as payment_record writes them, copied from one prototype each.
    payment_changes, allocation_changes, invoice_changes, payloads = [], [], [], []
    for payment, wanted in zip(payments, steps, strict=True):
        params = {"amount": str(payment.amount), "method": method}
        payment_changes.append({"payment_id": payment.pk, "kind": PaymentEvent.Kind.RECORDED, "params": params})
        if wanted:
            items = [[invoices[invoice_id].number, str(amount)] for invoice_id, amount in wanted.items()]
            payment_changes.append({"payment_id": payment.pk, "kind": PaymentEvent.Kind.ALLOCATED, "params": {"items": items}})
        for invoice_id, amount in wanted.items():
            allocation_changes.append({"payment_id": payment.pk, "invoice_id": invoice_id, "amount": amount})
            invoice_changes.append({"invoice_id": invoice_id, "params": {"payment": payment.number, "amount": str(amount)}})
        payloads.append(_received_payload(payment, [invoices[invoice_id].number for invoice_id in wanted]))
    rows_insert(objects_like(PaymentEvent.build(payments[0], kind="", actor=actor), payment_changes))
    allocation = PaymentAllocation(payment=payments[0], amount=ZERO, created_by=actor.user_or_none)
    rows_insert(objects_like(allocation, allocation_changes))
    if invoice_changes:
        invoice = invoices[invoice_changes[0]["invoice_id"]]
        rows_insert(objects_like(InvoiceEvent.build(invoice, kind=InvoiceEvent.Kind.PAYMENT, actor=actor), invoice_changes))
    # The orders' statuses after each payment in turn, from the invoices as they were before this batch.
    statuses = [step for step in order_payment_status_steps(steps=[wanted for wanted in steps if wanted]) if step]
    paid = [invoices[invoice_id] for invoice_id in sorted({i for wanted in steps for i in wanted})]
    rows_update(paid, ["amount_paid"])
    if statuses:
        order_payment_status_set_in_turn(steps=statuses, by=actor)
    outbox_publish_many(topic=PAYMENT_RECEIVED, payloads=payloads)
    return answers


@transaction.atomic
def payment_allocate(*, payment: Payment, allocations: Sequence[tuple[Invoice, Decimal]], by) -> list[PaymentAllocation]:
    """Allocate a payment (or what is left of it: the customer's advance) to one or more of the
    customer's issued invoices, each at most its open amount; updates the invoices' paid amounts
    and the orders' payment status (a delivered, invoiced order that is now paid completes)."""
    actor = Actor.of(by)
    _require(actor, ALLOCATE_PERMISSION)
    _lock_customer(payment.customer_id)
    locked = _lock_payment(payment.pk)
    rows = _allocate(payment=locked, allocations=allocations, actor=actor)
    outbox_publish(
        topic=PAYMENT_ALLOCATED,
        payload={
            "id": locked.pk,
            "customer": locked.customer_id,
            "allocations": [[row.invoice.number, str(row.amount)] for row in rows],
        },
    )
    return rows


def _undo(*, allocation: PaymentAllocation, payment: Payment, invoice: Invoice, actor: Actor) -> None:
    """Undo one allocation whose payment and invoice the caller has locked."""
    if invoice.amount_paid < allocation.amount:
        raise DomainError(
            _("Invoice %(invoice)s shows less paid than this allocation.") % {"invoice": invoice.number}, code="inconsistent"
        )
    overpaid, refunded = invoice_money_back(invoice)
    if refunded > 0 and overpaid - allocation.amount < refunded:
        # Without this money the invoice's credit notes would pay back more than the customer paid for it.
        raise DomainError(
            _("Credit notes of invoice %(invoice)s pay back %(refunded)s of this money: cancel those refunds first.")
            % {"invoice": invoice.number, "refunded": refunded},
            code="refunded",
        )
    now = timezone.now()
    PaymentAllocation.objects.filter(pk=allocation.pk).update(reversed_at=now, reversed_by=actor.user_or_none)
    allocation.reversed_at = now
    invoice.amount_paid -= allocation.amount
    _save_totals(invoice, "amount_paid")
    payment.amount_allocated -= allocation.amount
    _save_totals(payment, "amount_allocated")
    PaymentEvent.record(
        payment,
        kind=PaymentEvent.Kind.ALLOCATION_UNDONE,
        actor=actor,
        params={"invoice": invoice.number, "amount": str(allocation.amount)},
    )
    InvoiceEvent.record(
        invoice,
        kind=InvoiceEvent.Kind.PAYMENT,
        actor=actor,
        params={"payment": payment.number, "amount": str(-allocation.amount), "undone": True},
    )


@transaction.atomic
def allocation_undo(*, allocation: PaymentAllocation, by) -> PaymentAllocation:
    """Undo an allocation: it stays in the history, stamped undone; its amount is open on the invoice
    again and free on the payment (the customer's advance); the orders' payment status follows."""
    actor = Actor.of(by)
    _require(actor, ALLOCATE_PERMISSION)
    _lock_customer(allocation.payment.customer_id)
    payment = _lock_payment(allocation.payment_id)
    invoices = _lock_invoices([allocation.invoice_id])
    current = PaymentAllocation.objects.select_for_update().get(pk=allocation.pk)
    if current.reversed_at is not None:
        raise DomainError(_("This allocation was already undone."), code="already_undone")
    _undo(allocation=current, payment=payment, invoice=invoices[current.invoice_id], actor=actor)
    _refresh_orders([current.invoice_id], actor)
    return current


@transaction.atomic
def payment_void(*, payment: Payment, by, note: str = "") -> Payment:
    """Void a payment recorded by mistake: its allocations and write-offs are undone first (kept in
    the history), then it is void. A payment partly refunded, or whose bill has left, cannot be voided."""
    actor = Actor.of(by)
    _require(actor, "billing.void_payment")
    _lock_customer(payment.customer_id)
    locked = _lock_payment(payment.pk)
    if locked.state != PaymentRecordState.RECORDED:
        raise DomainError(_("Payment %(number)s is already void.") % {"number": locked.number}, code="payment_void")
    if locked.amount_refunded:
        raise DomainError(locked.transition_problems("void")[0], code="refunded")
    active = list(locked.allocations.filter(reversed_at__isnull=True).order_by("pk"))
    invoices = _lock_invoices([row.invoice_id for row in active])
    for row in active:
        _undo(allocation=row, payment=locked, invoice=invoices[row.invoice_id], actor=actor)
    for write_off in locked.write_offs.select_for_update().filter(reversed_at__isnull=True).order_by("pk"):
        _write_off_reverse(write_off=write_off, payment=locked, invoice=None, actor=actor)
    voided = transition_apply(
        obj=locked, transition="void", actor=actor, note=note, params={"undone": len(active)} if active else None
    )
    _refresh_orders(invoices, actor)
    return voided


# --- write-offs ----------------------------------------------------------------------------------------


def _check_write_off(amount: Decimal, reason: str) -> None:
    if reason not in WriteOffReason.values:
        raise DomainError(_("Choose why the difference is written off."), code="invalid_reason", field="reason")
    limit = write_off_limit()
    if amount > limit:
        raise DomainError(
            _("At most %(limit)s may be written off; settle larger differences with a payment or a credit note.")
            % {"limit": limit},
            code="over_write_off_limit",
            field="amount",
            params={"limit": limit},
        )


@transaction.atomic
def invoice_write_off(*, invoice: Invoice, amount: Decimal, reason: str, by, note: str = "") -> WriteOff:
    """Settle what an invoice still lacks (a customer paid a little short) by writing it off, within
    the configured limit; it counts as paid on the invoice and can be undone."""
    actor = Actor.of(by)
    _require(actor, ALLOCATE_PERMISSION)
    amount = _amount(amount)
    _check_write_off(amount, reason)
    _lock_customer(invoice.customer_id)
    locked = _lock_invoices([invoice.pk])[invoice.pk]
    if locked.status != InvoiceStatus.ISSUED:
        raise DomainError(_("Invoice %(invoice)s is not issued.") % {"invoice": locked}, code="invoice_not_issued")
    if amount > locked.open_amount:
        raise DomainError(
            _("Invoice %(invoice)s has %(open)s open; no more can be written off.")
            % {"invoice": locked.number, "open": max(locked.open_amount, ZERO)},
            code="over_invoice",
            field="amount",
        )
    write_off = WriteOff.objects.create(
        customer_id=locked.customer_id,
        invoice=locked,
        amount=amount,
        reason=reason,
        note=note.strip()[:300],
        created_by=actor.user_or_none,
    )
    locked.amount_paid += amount
    _save_totals(locked, "amount_paid")
    InvoiceEvent.record(
        locked, kind=InvoiceEvent.Kind.PAYMENT, actor=actor, params={"write_off": str(amount), "reason": reason}, note=note
    )
    _refresh_orders([locked.pk], actor)
    return write_off


@transaction.atomic
def payment_write_off(*, payment: Payment, amount: Decimal, reason: str, by, note: str = "") -> WriteOff:
    """Write off a small rest left on a payment (a customer paid a little more), within the configured limit."""
    actor = Actor.of(by)
    _require(actor, ALLOCATE_PERMISSION)
    amount = _amount(amount)
    _check_write_off(amount, reason)
    _lock_customer(payment.customer_id)
    locked = _lock_payment(payment.pk)
    if locked.state != PaymentRecordState.RECORDED:
        raise DomainError(_("Payment %(number)s is void.") % {"number": locked.number}, code="payment_void")
    if amount > locked.unallocated:
        raise DomainError(
            _("Payment %(number)s has %(rest)s left; no more can be written off.")
            % {"number": locked.number, "rest": locked.unallocated},
            code="over_payment",
            field="amount",
        )
    write_off = WriteOff.objects.create(
        customer_id=locked.customer_id,
        payment=locked,
        amount=amount,
        reason=reason,
        note=note.strip()[:300],
        created_by=actor.user_or_none,
    )
    locked.amount_written_off += amount
    _save_totals(locked, "amount_written_off")
    PaymentEvent.record(
        locked, kind=PaymentEvent.Kind.WRITTEN_OFF, actor=actor, params={"amount": str(amount), "reason": reason}, note=note
    )
    return write_off


def _write_off_reverse(*, write_off: WriteOff, payment: Payment | None, invoice: Invoice | None, actor: Actor) -> None:
    now = timezone.now()
    WriteOff.objects.filter(pk=write_off.pk).update(reversed_at=now, reversed_by=actor.user_or_none)
    write_off.reversed_at = now
    if payment is not None:
        payment.amount_written_off -= write_off.amount
        _save_totals(payment, "amount_written_off")
        PaymentEvent.record(
            payment, kind=PaymentEvent.Kind.WRITE_OFF_UNDONE, actor=actor, params={"amount": str(write_off.amount)}
        )
    if invoice is not None:
        invoice.amount_paid -= write_off.amount
        _save_totals(invoice, "amount_paid")
        InvoiceEvent.record(
            invoice, kind=InvoiceEvent.Kind.PAYMENT, actor=actor, params={"write_off": str(-write_off.amount), "undone": True}
        )


@transaction.atomic
def write_off_undo(*, write_off: WriteOff, by) -> WriteOff:
    """Undo a write-off: the difference is open again (on the invoice) or free again (on the payment)."""
    actor = Actor.of(by)
    _require(actor, ALLOCATE_PERMISSION)
    _lock_customer(write_off.customer_id)
    payment = _lock_payment(write_off.payment_id) if write_off.payment_id else None
    invoice = _lock_invoices([write_off.invoice_id])[write_off.invoice_id] if write_off.invoice_id else None
    current = WriteOff.objects.select_for_update().get(pk=write_off.pk)
    if current.reversed_at is not None:
        raise DomainError(_("This write-off was already undone."), code="already_undone")
    if invoice is not None and invoice.amount_paid < current.amount:
        raise DomainError(_("The invoice shows less paid than this write-off."), code="inconsistent")
    _write_off_reverse(write_off=current, payment=payment, invoice=invoice, actor=actor)
    if invoice is not None:
        _refresh_orders([invoice.pk], actor)
    return current


# --- refunds ---------------------------------------------------------------------------------------------


@transaction.atomic
def refund_request(
    *,
    amount: Decimal,
    method: str,
    by,
    credit_note: CreditNote | None = None,
    payment: Payment | None = None,
    payee_name: str = "",
    payee_account: str = "",
    reason: str = "",
) -> Refund:
    """Record money to pay back to a customer, against a credit note (what they paid beyond what the
    invoice now asks) or an unused advance (a payment's rest); never more than that credit. The
    credit is held at once, the refund waits in the "refunds to pay" queue until it is paid."""
    actor = Actor.of(by)
    _require(actor, REFUND_PERMISSION)
    amount = _amount(amount)
    if (credit_note is None) == (payment is None):
        raise DomainError(_("Refund against a credit note or an advance."), code="refund_source")
    if method not in [value for value, _label in Refund._meta.get_field("method").choices]:
        raise DomainError(_("Choose how the money is paid back."), code="invalid_method", field="method")
    customer_id = credit_note.customer_id if credit_note is not None else payment.customer_id
    customer = _lock_customer(customer_id)
    fields = {}
    if payment is not None:
        locked = _lock_payment(payment.pk)
        if locked.state != PaymentRecordState.RECORDED:
            raise DomainError(_("Payment %(number)s is void.") % {"number": locked.number}, code="payment_void")
        if amount > locked.unallocated:
            raise DomainError(
                _("Only %(credit)s of payment %(number)s is unused; no more can be refunded.")
                % {"credit": locked.unallocated, "number": locked.number},
                code="over_credit",
                field="amount",
                params={"credit": locked.unallocated},
            )
        locked.amount_refunded += amount
        _save_totals(locked, "amount_refunded")
        fields["payment"] = locked
    else:
        invoice = _lock_invoices([credit_note.invoice_id])[credit_note.invoice_id]
        note = CreditNote.objects.select_for_update(of=("self",)).get(pk=credit_note.pk)
        if note.status != CreditNoteStatus.ISSUED:
            raise DomainError(_("Credit note %(number)s is not issued.") % {"number": note}, code="credit_note_not_issued")
        refundable = credit_note_refundable(note, invoice)
        if amount > refundable:
            raise DomainError(
                _("Only %(credit)s can be refunded on credit note %(number)s (what the customer paid beyond the invoice).")
                % {"credit": refundable, "number": note.number},
                code="over_credit",
                field="amount",
                params={"credit": refundable},
            )
        note.amount_refunded += amount
        _save_totals(note, "amount_refunded")
        fields["credit_note"] = note
    refund = Refund.objects.create(
        number=document_number("refund"),
        customer=customer,
        amount=amount,
        method=method,
        payee_name=payee_name.strip()[:200],
        payee_account=payee_account.strip()[:60],
        reason=reason.strip()[:300],
        created_by=actor.user_or_none,
        **fields,
    )
    RefundEvent.record(refund, kind=RefundEvent.Kind.REQUESTED, actor=actor, params={"amount": str(amount)})
    if payment is not None:
        PaymentEvent.record(
            fields["payment"], kind=PaymentEvent.Kind.REFUND, actor=actor, params={"number": refund.number, "amount": str(amount)}
        )
    else:
        CreditNoteEvent.record(
            fields["credit_note"], kind="refund", actor=actor, params={"number": refund.number, "amount": str(amount)}
        )
        _refresh_orders([credit_note.invoice_id], actor)
    return refund


@transaction.atomic
def refund_pay(*, refund: Refund, reference: str, paid_on: date, by, method: str = "") -> Refund:
    """The money went out: record the date and the reference (bank slip, Alipay or WeChat Pay transaction)."""
    actor = Actor.of(by)
    reference = reference.strip()[:100]
    if not reference:
        raise DomainError(
            _("Give the reference of the transfer (bank slip or transaction number)."), code="reference", field="reference"
        )
    if paid_on > timezone.localdate():
        raise DomainError(_("A refund cannot be paid in the future."), code="future_date", field="paid_on")
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if method and method != locked.method:
        if method not in [value for value, _label in Refund._meta.get_field("method").choices]:
            raise DomainError(_("Choose how the money is paid back."), code="invalid_method", field="method")
        Refund.objects.filter(pk=locked.pk).update(method=method)
        locked.method = method
    Refund.objects.filter(pk=locked.pk).update(reference=reference, paid_on=paid_on)
    locked.reference, locked.paid_on = reference, paid_on
    return transition_apply(obj=locked, transition="pay", actor=actor, params={"reference": reference})


@transaction.atomic
def refund_cancel(*, refund: Refund, by, note: str = "") -> Refund:
    """Withdraw a refund not paid yet: the credit it held is the customer's again."""
    actor = Actor.of(by)
    _require(actor, REFUND_PERMISSION)
    _lock_customer(refund.customer_id)
    if refund.payment_id:
        payment = _lock_payment(refund.payment_id)
    else:
        invoice_id = CreditNote.objects.values_list("invoice_id", flat=True).get(pk=refund.credit_note_id)
        _lock_invoices([invoice_id])
        credit_note = CreditNote.objects.select_for_update(of=("self",)).get(pk=refund.credit_note_id)
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if locked.state != RefundState.TO_PAY:
        raise DomainError(
            _("Refund %(number)s is %(state)s: only a refund still to pay can be cancelled.")
            % {"number": locked.number, "state": locked.get_state_display()},
            code="transition_not_allowed",
        )
    cancelled = transition_apply(obj=locked, transition="cancel", actor=actor, note=note)
    if refund.payment_id:
        payment.amount_refunded -= locked.amount
        _save_totals(payment, "amount_refunded")
    else:
        credit_note.amount_refunded -= locked.amount
        _save_totals(credit_note, "amount_refunded")
        _refresh_orders([credit_note.invoice_id], actor)
    return cancelled


# --- acceptance bills ------------------------------------------------------------------------------------


@transaction.atomic
def bill_endorse(*, payment: Payment, endorsee: str, on: date, by, note: str = "") -> Payment:
    """Endorse (背书转让) a held acceptance bill to a supplier: the bill leaves the company."""
    actor = Actor.of(by)
    _require(actor, BILL_PERMISSION)
    endorsee = endorsee.strip()[:200]
    if not endorsee:
        raise DomainError(_("Name who the bill is endorsed to."), code="endorsee", field="endorsee")
    locked = _lock_payment(payment.pk)
    moved = transition_apply(obj=locked, transition="endorse", actor=actor, note=note, params={"endorsee": endorsee})
    Payment.objects.filter(pk=moved.pk).update(bill_endorsee=endorsee, bill_settled_on=on)
    return Payment.objects.get(pk=moved.pk)


@transaction.atomic
def bill_discount(*, payment: Payment, fee: Decimal, on: date, by, note: str = "") -> Payment:
    """Discount (贴现) a held bill at a bank before maturity; the fee the bank keeps is recorded."""
    actor = Actor.of(by)
    _require(actor, BILL_PERMISSION)
    locked = _lock_payment(payment.pk)
    try:
        fee = Decimal(str(fee)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter the discount fee, e.g. 125.00."), code="invalid_amount", field="fee") from None
    if fee < 0 or fee >= locked.amount:
        raise DomainError(
            _("The discount fee must be at least zero and less than the bill's amount."), code="invalid_amount", field="fee"
        )
    moved = transition_apply(obj=locked, transition="discount", actor=actor, note=note, params={"discount_fee": str(fee)})
    Payment.objects.filter(pk=moved.pk).update(bill_discount_fee=fee, bill_settled_on=on)
    return Payment.objects.get(pk=moved.pk)


@transaction.atomic
def bill_collect(*, payment: Payment, on: date, by, note: str = "") -> Payment:
    """The accepting bank paid the bill at maturity (托收); a bill is not collected before it matures."""
    actor = Actor.of(by)
    _require(actor, BILL_PERMISSION)
    locked = _lock_payment(payment.pk)
    if locked.bill_maturity_date and on < locked.bill_maturity_date:
        raise DomainError(
            _("Bill %(number)s matures on %(date)s; it cannot be collected before.")
            % {"number": locked.bill_number, "date": locked.bill_maturity_date},
            code="not_mature",
            field="on",
        )
    moved = transition_apply(obj=locked, transition="collect", actor=actor, note=note)
    Payment.objects.filter(pk=moved.pk).update(bill_settled_on=on)
    return Payment.objects.get(pk=moved.pk)

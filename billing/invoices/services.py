"""Invoices: drafted from shipped order lines (or before shipping, as a prepayment invoice),
edited while a draft, issued with a gapless number, discarded while a draft.

Lock order: the orders' rows (by primary key) → the invoice row → the number counter last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from billing.models import (
    TAX_RATES,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceMedium,
    InvoiceStatus,
)
from billing.payments.status import orders_payment_status_refresh
from billing.validation import FAPIAO_NUMBER
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.money import ZERO, round_money
from config.numbering import document_number
from config.transitions import transition_apply
from customers.models import Address, Customer
from customers.tax_ids import is_valid_uscc
from orders.invoicing import (
    INVOICEABLE_STATUSES,
    PREPAYABLE_STATUSES,
    invoiceable_quantity,
    order_lines_for_invoicing,
    order_lines_record_invoiced,
    order_lines_release_invoiced,
    orders_lock,
)
from orders.models import SalesOrder, SalesOrderLine
from orders.models import line_amounts as order_line_amounts

DRAFT_PERMISSION = "billing.add_invoice"
CHANGE_PERMISSION = "billing.change_invoice"
UNIT_PRICE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class DraftOutcome:
    """What drafting did: the new draft (None when every unit was covered by a prepayment invoice)."""

    invoice: Invoice | None
    covered_by_prepayment: int = 0


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))


def buyer_snapshot(customer: Customer) -> dict[str, str]:
    """The buyer's details as the invoice prints them: name, tax ID, billing address and phone."""
    address = (
        Address.objects.filter(customer=customer, kind=Address.Kind.BILLING).order_by("-is_default", "pk").first()
        or Address.objects.filter(customer=customer).order_by("-is_default", "pk").first()
    )
    street = " ".join(p for p in [address.province, address.city, address.line1, address.line2] if p) if address else ""
    phone = customer.phone or (address.phone if address else "")
    return {
        "buyer_name": customer.name,
        "buyer_tax_id": customer.tax_id if is_valid_uscc(customer.tax_id) else "",
        "buyer_address_phone": " ".join(p for p in [street, phone] if p)[:300],
    }


def default_kind(customer: Customer) -> str:
    """A company with a valid tax ID usually asks for a special VAT invoice (it deducts the input tax)."""
    if customer.kind == Customer.Kind.COMPANY and is_valid_uscc(customer.tax_id):
        return InvoiceKind.SPECIAL
    return InvoiceKind.ORDINARY


def line_amounts(*, quantity: int, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Net = quantity × net unit price, tax = net × rate, each rounded half-up to the cent; gross = net + tax."""
    net = round_money(Decimal(quantity) * unit_price)
    tax = round_money(net * tax_rate)
    return net, tax, net + tax


def _first_units(order_line: SalesOrderLine, units: int) -> tuple[Decimal, Decimal]:
    """Net and tax of the first `units` of an order line, rounded as the order rounds (all of them: the line's amounts)."""
    if units >= order_line.quantity:
        return order_line.line_net, order_line.line_tax
    if units <= 0:
        return ZERO, ZERO
    net, tax, _gross = order_line_amounts(
        quantity=units,
        unit_price=order_line.unit_price,
        discount_percent=order_line.discount_percent,
        tax_rate=order_line.tax_rate,
    )
    return net, tax


def _net_unit_price(line: SalesOrderLine) -> Decimal:
    return (line.unit_price * (Decimal(100) - line.discount_percent) / Decimal(100)).quantize(UNIT_PRICE_PLACES)


def _invoice_line_for(*, invoice: Invoice, position: int, order_line: SalesOrderLine, quantity: int) -> InvoiceLine:
    tax_rate = order_line.tax_rate
    if tax_rate.normalize() not in {rate.normalize() for rate in TAX_RATES}:
        raise DomainError(
            _("Line %(position)s of %(number)s has a tax rate of %(rate)s %%, which an invoice cannot carry.")
            % {"position": order_line.position, "number": order_line.order.number, "rate": (tax_rate * 100).normalize()},
            code="tax_rate",
        )
    # Units (before, before + quantity] of the order line: what the first units come to, less what the
    # units invoiced before them came to. The invoices of a line shipped in parts so add up to the order
    # line to the cent; rounding each part on its own could leave 0.01 open after the order total is paid.
    before = order_line.quantity_invoiced
    net_upto, tax_upto = _first_units(order_line, before + quantity)
    net_before, tax_before = _first_units(order_line, before)
    net, tax = net_upto - net_before, tax_upto - tax_before
    gross = net + tax
    product = order_line.product
    return InvoiceLine(
        invoice=invoice,
        position=position,
        order=order_line.order,
        order_line=order_line,
        product=product,
        description=order_line.description[:200],
        tax_classification_code=getattr(product, "tax_classification_code", "") or "",
        unit=getattr(product, "unit", "") or "",
        quantity=quantity,
        unit_price=_net_unit_price(order_line),
        tax_rate=tax_rate,
        net=net,
        tax=tax,
        gross=gross,
    )


def _set_totals(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """Totals are the sums of the rounded lines."""
    invoice.total_net = sum((line.net for line in lines), ZERO)
    invoice.total_tax = sum((line.tax for line in lines), ZERO)
    invoice.total_gross = invoice.total_net + invoice.total_tax


def _prepayment_lines(order_ids: Iterable[int]) -> list[tuple[int, int, str]]:
    """(order line, prepayment invoice, its status) of the orders' live (draft or issued) prepayment invoices."""
    return list(
        InvoiceLine.objects.filter(
            order_id__in=list(order_ids),
            invoice__is_prepayment=True,
            invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.ISSUED],
        ).values_list("order_line_id", "invoice_id", "invoice__status")
    )


def _prepaid_order_line_ids(order_ids: Iterable[int]) -> set[int]:
    """Order lines on a live (draft or issued) prepayment invoice: those invoices cover them."""
    return {line_id for line_id, _invoice, _status in _prepayment_lines(order_ids)}


def prepayment_refusal(customer: Customer) -> str:
    """Why this customer's orders may not be invoiced before shipping ("" when their payment terms say prepayment)."""
    if customer.prepayment_required:
        return ""
    return _(
        "%(customer)s pays on terms of %(days)s days, not before shipping: a prepayment invoice is only for a customer "
        "whose payment terms say prepayment (finance sets this on the customer). Invoice the order once it ships."
    ) % {"customer": customer.name, "days": customer.payment_terms_days}


def _check_orders(orders: list[SalesOrder], order_ids: set[int]) -> Customer:
    if len(orders) != len(order_ids):
        raise DomainError(_("One of these orders no longer exists."), code="unknown_order")
    customers = {order.customer_id for order in orders}
    if len(customers) != 1:
        raise DomainError(_("One invoice is for one customer: choose orders of the same customer."), code="mixed_customers")
    return orders[0].customer


@transaction.atomic
def invoice_draft_from_orders(
    *,
    orders: Iterable[SalesOrder | int],
    by,
    kind: str | None = None,
    medium: str = InvoiceMedium.ELECTRONIC,
    quantities: dict[int, int] | None = None,
) -> DraftOutcome:
    """Draft an invoice for what shipped of one customer's orders and is not yet invoiced (shipped −
    returned − invoiced, or less per line in `quantities`); the lines' invoiced quantities grow in the
    same transaction. Lines a prepayment invoice covers are marked invoiced without a new line."""
    actor = Actor.of(by)
    _require(actor, DRAFT_PERMISSION)
    order_ids = {order if isinstance(order, int) else order.pk for order in orders}
    if not order_ids:
        raise DomainError(_("Choose at least one order to invoice."), code="no_orders")
    locked = orders_lock(order_ids=order_ids)
    customer = _check_orders(locked, order_ids)
    not_shipped = [order.number for order in locked if order.status not in INVOICEABLE_STATUSES]
    if not_shipped:
        raise DomainError(
            _("Nothing of %(numbers)s has shipped yet: only shipped goods are invoiced.") % {"numbers": ", ".join(not_shipped)},
            code="not_shipped",
        )
    prepayments = _prepayment_lines(order_ids)
    drafts = sorted({invoice_id for _line, invoice_id, status in prepayments if status == InvoiceStatus.DRAFT})
    if drafts:
        raise DomainError(
            _("Issue or discard the draft prepayment invoice of these orders first: it is to cover what shipped."),
            code="prepayment_draft",
        )
    prepaid = {line_id for line_id, _invoice, _status in prepayments}
    to_invoice: list[tuple[SalesOrderLine, int]] = []
    covered: dict[int, int] = {}
    for line in order_lines_for_invoicing(order_ids=order_ids):
        open_units = invoiceable_quantity(line)
        wanted = open_units if quantities is None else quantities.get(line.pk, 0)
        if wanted <= 0:
            continue
        if wanted > open_units:
            raise DomainError(
                _("Line %(position)s of %(number)s has %(open)s units to invoice; %(qty)s is too many.")
                % {"position": line.position, "number": line.order.number, "open": open_units, "qty": wanted},
                code="over_invoice",
            )
        if line.pk in prepaid:
            covered[line.pk] = wanted
        else:
            to_invoice.append((line, wanted))
    if not to_invoice and not covered:
        raise DomainError(_("Everything that shipped of these orders is already invoiced."), code="nothing_to_invoice")
    invoice = None
    if to_invoice:
        invoice = Invoice.objects.create(
            customer=customer,
            kind=kind or default_kind(customer),
            medium=medium,
            currency=locked[0].currency,
            created_by=actor.user_or_none,
            **buyer_snapshot(customer),
        )
        lines = [
            _invoice_line_for(invoice=invoice, position=index, order_line=line, quantity=qty)
            for index, (line, qty) in enumerate(to_invoice, start=1)
        ]
        InvoiceLine.objects.bulk_create(lines)
        _set_totals(invoice, lines)
        invoice.save(update_fields=["total_net", "total_tax", "total_gross"])
        InvoiceEvent.record(
            invoice,
            kind=InvoiceEvent.Kind.CREATED,
            actor=actor,
            params={"orders": sorted({line.order.number for line, _qty in to_invoice})},
        )
    order_lines_record_invoiced(quantities={**{line.pk: qty for line, qty in to_invoice}, **covered}, by=actor)
    if covered:
        # Invoiced by the prepayment invoice now: a delivered order whose prepayment is paid completes.
        orders_payment_status_refresh(invoice_ids={invoice_id for _line, invoice_id, _status in prepayments}, by=actor)
    return DraftOutcome(invoice=invoice, covered_by_prepayment=sum(covered.values()))


@transaction.atomic
def invoice_draft_prepayment(
    *, order: SalesOrder, by, kind: str | None = None, medium: str = InvoiceMedium.ELECTRONIC
) -> Invoice:
    """Draft a prepayment invoice for the whole of an approved order before it ships, for a customer
    whose payment terms say prepayment; once the goods ship, drafting from the order marks them
    invoiced by it instead of invoicing them again (the prepayment invoice is their invoice)."""
    actor = Actor.of(by)
    _require(actor, DRAFT_PERMISSION)
    found = orders_lock(order_ids=[order.pk])
    if not found:
        raise DomainError(_("One of these orders no longer exists."), code="unknown_order")
    locked = found[0]
    refusal = prepayment_refusal(locked.customer)
    if refusal:
        raise DomainError(refusal, code="not_prepayment_terms")
    if locked.status not in PREPAYABLE_STATUSES:
        raise DomainError(
            _("A prepayment invoice is for an approved order before it ships; %(number)s is %(status)s.")
            % {"number": locked.number, "status": locked.get_status_display()},
            code="not_prepayable",
        )
    if _prepaid_order_line_ids([locked.pk]):
        raise DomainError(_("Order %(number)s already has a prepayment invoice.") % {"number": locked.number}, code="prepaid")
    if InvoiceLine.objects.filter(order=locked).exclude(invoice__status=InvoiceStatus.CANCELLED).exists():
        raise DomainError(_("Order %(number)s is already invoiced.") % {"number": locked.number}, code="already_invoiced")
    customer = locked.customer
    invoice = Invoice.objects.create(
        customer=customer,
        kind=kind or default_kind(customer),
        medium=medium,
        is_prepayment=True,
        currency=locked.currency,
        created_by=actor.user_or_none,
        **buyer_snapshot(customer),
    )
    order_lines = [
        line for line in order_lines_for_invoicing(order_ids=[locked.pk]) if line.quantity - line.quantity_cancelled > 0
    ]
    lines = [
        _invoice_line_for(invoice=invoice, position=index, order_line=line, quantity=line.quantity - line.quantity_cancelled)
        for index, line in enumerate(order_lines, start=1)
    ]
    if not lines:
        raise DomainError(
            _("Order %(number)s has nothing left to invoice.") % {"number": locked.number}, code="nothing_to_invoice"
        )
    InvoiceLine.objects.bulk_create(lines)
    _set_totals(invoice, lines)
    invoice.save(update_fields=["total_net", "total_tax", "total_gross"])
    InvoiceEvent.record(
        invoice, kind=InvoiceEvent.Kind.CREATED, actor=actor, params={"orders": [locked.number], "prepayment": True}
    )
    return invoice


def _invoiced_quantities(invoice: Invoice) -> dict[int, int]:
    """What each order line has on this invoice (prepayment invoices hold no invoiced quantities)."""
    rows = (
        InvoiceLine.objects.filter(invoice=invoice, order_line__isnull=False)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    return {row["order_line_id"]: row["total"] for row in rows}


def invoice_lock(invoice: Invoice | int) -> Invoice:
    pk = invoice if isinstance(invoice, int) else invoice.pk
    return Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)


@transaction.atomic
def invoice_update_draft(*, invoice: Invoice, by, **fields) -> Invoice:
    """Change the buyer's details, kind, medium or remarks of a draft (what is printed)."""
    actor = Actor.of(by)
    _require(actor, CHANGE_PERMISSION)
    locked = invoice_lock(invoice)
    if locked.status != InvoiceStatus.DRAFT:
        raise DomainError(_("Only a draft invoice can be changed; issue a credit note instead."), code="not_draft")
    allowed = {"kind", "medium", "buyer_name", "buyer_tax_id", "buyer_address_phone", "buyer_bank_account", "remarks"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(f"{name} is not a draft's editable field")
        setattr(locked, name, value)
    locked.save(update_fields=sorted(fields))
    return locked


def issue_problems(invoice: Invoice) -> list[str]:
    """What the buyer's details lack for this kind of invoice (a special VAT invoice needs them all)."""
    problems = []
    if not invoice.buyer_name.strip():
        problems.append(_("The buyer's name is missing."))
    if invoice.buyer_tax_id and not is_valid_uscc(invoice.buyer_tax_id):
        problems.append(_("The buyer's tax ID is not a valid unified social credit code."))
    if invoice.kind == InvoiceKind.SPECIAL:
        if not invoice.buyer_tax_id:
            problems.append(_("A special VAT invoice needs the buyer's tax ID."))
        if not invoice.buyer_address_phone.strip():
            problems.append(_("A special VAT invoice needs the buyer's address and phone."))
        if not invoice.buyer_bank_account.strip():
            problems.append(_("A special VAT invoice needs the buyer's bank and account."))
    if invoice.total_gross <= 0:
        problems.append(_("An invoice's total must be more than zero."))
    return problems


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by) -> Invoice:
    """Issue a draft: it takes the next gapless number of its year inside this transaction (a
    rollback leaves no hole), its issue date and due date; from then on it never changes.
    Its PDF is stored and e-mailed to the customer after commit (outbox)."""
    actor = Actor.of(by)
    locked = invoice_lock(invoice)
    if locked.status == InvoiceStatus.DRAFT:
        problems = issue_problems(locked)
        if problems:
            raise DomainError(" ".join(str(p) for p in problems), code="incomplete", items=problems)
        if not actor.is_system and not actor.has_perm("billing.issue_invoice"):
            raise PermissionRefused(_("You are not allowed to do that."))
        # The counter row is the last lock taken (DESIGN's lock order).
        locked.number = document_number("invoice")
    return transition_apply(
        obj=locked,
        transition="issue",
        actor=actor,
        kind=InvoiceEvent.Kind.ISSUE,
        params={"number": locked.number},
        lock=False,
    )


@transaction.atomic
def invoice_discard(*, invoice: Invoice, by, note: str = "") -> Invoice:
    """Abandon a draft: its units become invoiceable again on their orders."""
    actor = Actor.of(by)
    current = Invoice.objects.get(pk=invoice.pk)
    order_ids = set(InvoiceLine.objects.filter(invoice=current).exclude(order=None).values_list("order_id", flat=True))
    orders_lock(order_ids=order_ids)  # orders before the invoice (the global lock order)
    locked = invoice_lock(current)
    if locked.status == InvoiceStatus.DRAFT and not locked.is_prepayment:
        order_lines_release_invoiced(quantities=_invoiced_quantities(locked), by=actor)
    return transition_apply(obj=locked, transition="discard", actor=actor, kind=InvoiceEvent.Kind.DISCARD, note=note, lock=False)


@transaction.atomic
def invoice_record_fapiao_number(*, invoice: Invoice, fapiao_number: str, by) -> Invoice:
    """Record the tax platform's fapiao number of an issued invoice, once."""
    actor = Actor.of(by)
    _require(actor, "billing.issue_invoice")
    fapiao_number = (fapiao_number or "").strip()
    locked = invoice_lock(invoice)
    if not FAPIAO_NUMBER.match(fapiao_number):
        raise DomainError(
            _("A fapiao number has 8 digits (legacy) or 20 digits (fully digital)."), code="fapiao_number", field="fapiao_number"
        )
    if locked.status != InvoiceStatus.ISSUED:
        raise DomainError(_("The fapiao number is recorded once the invoice is issued."), code="not_issued")
    if locked.fapiao_number:
        raise DomainError(
            _("This invoice's fapiao number is already recorded (%(number)s).") % {"number": locked.fapiao_number},
            code="fapiao_recorded",
        )
    Invoice.objects.filter(pk=locked.pk).update(fapiao_number=fapiao_number)
    locked.fapiao_number = fapiao_number
    InvoiceEvent.record(locked, kind=InvoiceEvent.Kind.FAPIAO, actor=actor, params={"number": fapiao_number})
    return locked


def invoiceable_by_order(*, order_ids: Iterable[int]) -> dict[int, int]:
    """Units still to invoice per order (shipped − returned − invoiced), for pages and queues."""
    totals: dict[int, int] = defaultdict(int)
    for line in SalesOrderLine.objects.filter(order_id__in=list(order_ids)).only(
        "order_id", "quantity_shipped", "quantity_returned", "quantity_invoiced"
    ):
        totals[line.order_id] += invoiceable_quantity(line)
    return dict(totals)

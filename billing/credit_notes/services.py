"""Red-letter credit notes (红字发票): drafted against one issued invoice, in full or per line up to
what is still creditable, and issued with a gapless number of their own; issuing reduces the
invoice's open amount in the same transaction and can never take back more than the invoice.

Lock order: the orders' rows → the invoice → the credit note → the number counter last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.models import (
    TAX_TOLERANCE,
    CreditNote,
    CreditNoteEvent,
    CreditNoteLine,
    CreditNoteReason,
    CreditNoteStatus,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from billing.validation import RED_LETTER_NUMBER
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.money import ZERO, round_money
from config.numbering import document_number
from config.transitions import transition_apply
from orders.invoicing import order_lines_release_invoiced, orders_lock

DRAFT_PERMISSION = "billing.add_creditnote"
# Reasons whose units go back (the order's invoiced quantity shrinks by what is credited).
UNIT_REASONS = {CreditNoteReason.SALES_RETURN, CreditNoteReason.WRONG_INVOICE}


@dataclass(frozen=True)
class CreditRequest:
    """What to take back of one invoice line: units (their share of the amount) or, with no units,
    a net amount (a price concession)."""

    invoice_line_id: int
    quantity: int = 0
    net: Decimal | None = None


@dataclass(frozen=True)
class Creditable:
    """What is still creditable of one invoice line (issued credit notes already took the rest)."""

    line: InvoiceLine
    quantity: int
    net: Decimal
    tax: Decimal


def creditable_lines(*, invoice: Invoice) -> list[Creditable]:
    """Each line of the invoice with the units and amounts issued credit notes have not yet taken back (one query)."""
    issued = Q(credit_note_lines__credit_note__status=CreditNoteStatus.ISSUED)
    lines = invoice.lines.select_related("product").annotate(
        credited_quantity=Coalesce(Sum("credit_note_lines__quantity", filter=issued), 0),
        credited_net=Coalesce(Sum("credit_note_lines__net", filter=issued), ZERO),
        credited_tax=Coalesce(Sum("credit_note_lines__tax", filter=issued), ZERO),
    )
    return [
        Creditable(
            line=line,
            quantity=line.quantity - line.credited_quantity,
            net=line.net - line.credited_net,
            tax=line.tax - line.credited_tax,
        )
        for line in lines.order_by("position", "pk")
    ]


def _units_share(line: InvoiceLine, units: int) -> tuple[Decimal, Decimal]:
    """Net and tax of the first `units` of an invoice line: its amounts in proportion, rounded half up."""
    if units >= line.quantity:
        return line.net, line.tax
    return round_money(line.net * units / line.quantity), round_money(line.tax * units / line.quantity)


def _credit_line(*, creditable: Creditable, request: CreditRequest, position: int, credit_note: CreditNote) -> CreditNoteLine:
    line = creditable.line
    if request.quantity < 0 or (request.net is not None and request.net < 0):
        raise DomainError(_("Amounts and quantities to credit cannot be negative."), code="negative_credit")
    if request.quantity:
        if request.quantity > creditable.quantity:
            raise DomainError(
                _("Line %(position)s: %(left)s units can still be credited; %(qty)s is too many.")
                % {"position": line.position, "left": creditable.quantity, "qty": request.quantity},
                code="over_credit",
            )
        if request.quantity == creditable.quantity:
            net, tax = creditable.net, creditable.tax  # the last units take exactly what is left
        else:
            # The line's share of the units credited so far with these, less the share of those before
            # them: credit notes of a line's units add up to the line to the cent, however it divides.
            done = line.quantity - creditable.quantity
            net_upto, tax_upto = _units_share(line, done + request.quantity)
            net_before, tax_before = _units_share(line, done)
            net = min(net_upto - net_before, creditable.net)
            tax = min(tax_upto - tax_before, creditable.tax)
    else:
        net = round_money(request.net or ZERO)
        if net <= 0:
            raise DomainError(_("Give the units or the amount to credit."), code="empty_credit")
        if net > creditable.net:
            raise DomainError(
                _("Line %(position)s: %(left)s can still be credited; %(net)s is too much.")
                % {"position": line.position, "left": creditable.net, "net": net},
                code="over_credit",
            )
        if net == creditable.net:
            tax = creditable.tax
        else:
            # The tax of everything credited on the line with this amount, less the tax already credited:
            # many small amounts do not round the line's tax away before its net.
            credited_net, credited_tax = line.net - creditable.net, line.tax - creditable.tax
            tax = round_money((credited_net + net) * line.tax_rate) - credited_tax
            tax = min(max(tax, ZERO), creditable.tax)
    if abs(tax - net * line.tax_rate) > TAX_TOLERANCE:
        tax = round_money(net * line.tax_rate)
    return CreditNoteLine(
        credit_note=credit_note,
        invoice_line=line,
        position=position,
        description=line.description,
        quantity=request.quantity,
        tax_rate=line.tax_rate,
        net=net,
        tax=tax,
        gross=net + tax,
    )


def _set_totals(credit_note: CreditNote, lines: list[CreditNoteLine]) -> None:
    credit_note.total_net = sum((line.net for line in lines), ZERO)
    credit_note.total_tax = sum((line.tax for line in lines), ZERO)
    credit_note.total_gross = credit_note.total_net + credit_note.total_tax


@transaction.atomic
def credit_note_draft(
    *,
    invoice: Invoice,
    reason: str,
    by,
    requests: Iterable[CreditRequest] | None = None,
    red_letter_number: str = "",
    note: str = "",
    source_key: str | None = None,
    params: dict | None = None,
) -> CreditNote:
    """Draft a credit note against an issued invoice: everything still creditable (no `requests`)
    or the given units / amounts per line, each within what is still creditable."""
    actor = Actor.of(by)
    if not actor.has_perm(DRAFT_PERMISSION):
        raise PermissionRefused(_("You are not allowed to do that."))
    if reason not in CreditNoteReason.values:
        raise DomainError(_("Choose the reason for the credit note."), code="reason", field="reason")
    red_letter_number = (red_letter_number or "").strip()
    if red_letter_number and not RED_LETTER_NUMBER.match(red_letter_number):
        raise DomainError(
            _("A red-letter confirmation number has 16 or 20 digits."), code="red_letter_number", field="red_letter_number"
        )
    current = Invoice.objects.get(pk=invoice.pk)
    if current.status != InvoiceStatus.ISSUED:
        raise DomainError(_("Only an issued invoice can be credited; a draft is changed or discarded."), code="not_issued")
    creditable = {item.line.pk: item for item in creditable_lines(invoice=current)}
    if requests is None:
        requests = [
            CreditRequest(invoice_line_id=pk, quantity=item.quantity, net=None if item.quantity else item.net)
            for pk, item in creditable.items()
            if item.net > 0 or item.tax > 0
        ]
    requests = [r for r in requests if r.quantity or r.net]
    if not requests:
        raise DomainError(
            _("Nothing of invoice %(number)s is left to credit.") % {"number": current.number}, code="nothing_to_credit"
        )
    credit_note = CreditNote(
        invoice=current,
        customer_id=current.customer_id,
        reason=reason,
        red_letter_number=red_letter_number,
        note=(note or "")[:300],
        currency=current.currency,
        source_key=source_key,
        created_by=actor.user_or_none,
    )
    lines = []
    for position, request in enumerate(requests, start=1):
        item = creditable.get(request.invoice_line_id)
        if item is None:
            raise DomainError(_("That line is not on invoice %(number)s.") % {"number": current.number}, code="unknown_line")
        lines.append(_credit_line(creditable=item, request=request, position=position, credit_note=credit_note))
    _set_totals(credit_note, lines)
    credit_note.save()
    CreditNoteLine.objects.bulk_create(lines)
    CreditNoteEvent.record(credit_note, kind=CreditNoteEvent.Kind.CREATED, actor=actor, params=params or {})
    return credit_note


@transaction.atomic
def credit_note_update_draft(
    *, credit_note: CreditNote, by, red_letter_number: str | None = None, note: str | None = None
) -> CreditNote:
    """Fill in the red-letter confirmation number or the note of a draft."""
    actor = Actor.of(by)
    if not actor.has_perm("billing.change_creditnote"):
        raise PermissionRefused(_("You are not allowed to do that."))
    locked = CreditNote.objects.select_for_update(of=("self",)).get(pk=credit_note.pk)
    if locked.status != CreditNoteStatus.DRAFT:
        raise DomainError(_("Only a draft credit note can be changed."), code="not_draft")
    if red_letter_number is not None:
        red_letter_number = red_letter_number.strip()
        if red_letter_number and not RED_LETTER_NUMBER.match(red_letter_number):
            raise DomainError(
                _("A red-letter confirmation number has 16 or 20 digits."), code="red_letter_number", field="red_letter_number"
            )
        locked.red_letter_number = red_letter_number
    if note is not None:
        locked.note = note.strip()[:300]
    locked.save(update_fields=["red_letter_number", "note"])
    return locked


@transaction.atomic
def credit_note_issue(*, credit_note: CreditNote, by) -> CreditNote:
    """Issue a draft credit note: re-checked under the invoice's lock against what is still
    creditable, it reduces the invoice's open amount (amount_credited) in this transaction, gives
    units back to their order lines when they come back (return, wrong invoice), and takes the
    next gapless CN number last."""
    actor = Actor.of(by)
    draft = CreditNote.objects.select_related("invoice").get(pk=credit_note.pk)
    lines = list(draft.lines.select_related("invoice_line").order_by("position", "pk"))
    units_back: dict[int, int] = defaultdict(int)
    if draft.reason in UNIT_REASONS:
        for line in lines:
            if line.quantity and line.invoice_line.order_line_id and not draft.invoice.is_prepayment:
                units_back[line.invoice_line.order_line_id] += line.quantity
    order_ids = {line.invoice_line.order_id for line in lines if line.invoice_line.order_id}
    orders_lock(order_ids=order_ids if units_back else [])
    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=draft.invoice_id)
    locked = CreditNote.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=draft.pk)
    if locked.status == CreditNoteStatus.DRAFT:
        if invoice.status != InvoiceStatus.ISSUED:
            raise DomainError(_("Only an issued invoice can be credited."), code="not_issued")
        if invoice.kind == InvoiceKind.SPECIAL and not locked.red_letter_number:
            raise DomainError(
                _("A credit note for a special VAT invoice needs the red-letter confirmation number."),
                code="red_letter_number",
                field="red_letter_number",
            )
        creditable = {item.line.pk: item for item in creditable_lines(invoice=invoice)}
        for line in lines:
            item = creditable[line.invoice_line_id]
            if line.quantity > item.quantity or line.net > item.net or line.tax > item.tax:
                raise DomainError(
                    _("Line %(position)s of invoice %(number)s was credited meanwhile: this credit note takes back too much.")
                    % {"position": item.line.position, "number": invoice.number},
                    code="over_credit",
                )
        if locked.total_gross > invoice.creditable_amount:
            raise DomainError(
                _("Invoice %(number)s can be credited by %(left)s at most; this credit note takes back %(total)s.")
                % {"number": invoice.number, "left": invoice.creditable_amount, "total": locked.total_gross},
                code="over_credit",
            )
        if not actor.is_system and not actor.has_perm("billing.issue_creditnote"):
            raise PermissionRefused(_("You are not allowed to do that."))
        try:
            with transaction.atomic():
                updated = Invoice.objects.filter(
                    pk=invoice.pk, amount_credited__lte=F("total_gross") - locked.total_gross
                ).update(amount_credited=F("amount_credited") + locked.total_gross)
        except IntegrityError as refused:  # the CHECK amount_credited <= total_gross, a last line of defence
            raise DomainError(_("A credit note cannot take back more than its invoice."), code="over_credit") from refused
        if updated != 1:
            raise DomainError(_("A credit note cannot take back more than its invoice."), code="over_credit")
        if units_back:
            order_lines_release_invoiced(quantities=units_back, by=actor)
        locked.number = document_number("credit_note")
        InvoiceEvent.record(
            invoice,
            kind=InvoiceEvent.Kind.CREDITED,
            actor=actor,
            params={"number": locked.number, "amount": str(locked.total_gross)},
        )
    return transition_apply(
        obj=locked,
        transition="issue",
        actor=actor,
        kind=CreditNoteEvent.Kind.ISSUE,
        params={"number": locked.number},
        lock=False,
    )


@transaction.atomic
def credit_note_discard(*, credit_note: CreditNote, by, note: str = "") -> CreditNote:
    """Abandon a draft credit note; the invoice keeps its amounts."""
    return transition_apply(
        obj=credit_note, transition="discard", actor=Actor.of(by), kind=CreditNoteEvent.Kind.DISCARD, note=note
    )


def credit_note_draft_for_refund(
    *, source: str, source_id: int, order_line_quantities: Mapping[int, int], params: dict, reason: str
) -> list[CreditNote]:
    """Logistics asked for a refund of returned or lost units: draft one credit note per issued
    invoice those units were invoiced on (oldest invoice first), once per source and invoice."""
    actor = Actor.system("system")
    wanted = {int(k): int(v) for k, v in order_line_quantities.items() if int(v) > 0}
    if not wanted:
        return []
    issued = (
        InvoiceLine.objects.filter(order_line_id__in=list(wanted), invoice__status=InvoiceStatus.ISSUED)
        .select_related("invoice")
        .order_by("invoice__issued_at", "invoice_id", "position")
    )
    by_invoice: dict[int, list[CreditRequest]] = defaultdict(list)
    invoices: dict[int, Invoice] = {}
    creditable_cache: dict[int, dict[int, Creditable]] = {}
    for line in issued:
        left = wanted.get(line.order_line_id, 0)
        if left <= 0:
            continue
        if line.invoice_id not in creditable_cache:
            creditable_cache[line.invoice_id] = {c.line.pk: c for c in creditable_lines(invoice=line.invoice)}
            invoices[line.invoice_id] = line.invoice
        creditable = creditable_cache[line.invoice_id][line.pk]
        units = min(left, creditable.quantity)
        if units <= 0:
            continue
        by_invoice[line.invoice_id].append(CreditRequest(invoice_line_id=line.pk, quantity=units))
        wanted[line.order_line_id] = left - units
    drafts = []
    for invoice_id, requests in by_invoice.items():
        key = f"{source}:{source_id}:{invoice_id}"
        if CreditNote.objects.filter(source_key=key).exists():
            continue
        try:
            with transaction.atomic():
                drafts.append(
                    credit_note_draft(
                        invoice=invoices[invoice_id],
                        reason=reason,
                        by=actor,
                        requests=requests,
                        source_key=key,
                        params=params,
                    )
                )
        except IntegrityError:  # the same event handled twice at once: the other run drafted it
            continue
    return drafts

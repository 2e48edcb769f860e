"""Reconciling bank lines with invoices: suggestions in bulk, exact matches applied, and the
finance clerk's accept / split / combine / not-a-payment / undo.

Suggestions for a whole import are worked out from a handful of queries: the invoice and order
numbers found in the memos, the payer accounts remembered per customer, the customers whose name
is the payer's, and the open invoices whose open amount equals a line's amount (indexed by number,
account, name and amount in memory). A line is matched by recording a payment through the payments
services, with the line as its source; undoing the match voids that payment. The exact matches of
an import are recorded together (payments_record_bulk), leaving what recording them one at a time
would leave.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceLine
from billing.payments.models import Payment, PaymentMethod, PaymentRecordState
from billing.payments.services import Receipt, payment_record, payment_void, payments_record_bulk
from config.actors import Actor
from config.bulk import rows_update
from config.errors import DomainError, PermissionRefused
from config.money import ZERO
from config.numbering import DOCUMENT_KINDS
from config.outbox import outbox_publish_many
from config.transitions import transition_apply, transitions_fire
from customers.models import Customer

from .models import RECONCILE_PERMISSION, BankStatementLine, LineStatus, MatchMethod, MatchSuggestion, PayerAccount

SCORES = {MatchMethod.NUMBER: 100, MatchMethod.ACCOUNT: 80, MatchMethod.NAME: 60, MatchMethod.AMOUNT: 30}
EXACT_AMOUNT_BONUS = 15
MAX_SUGGESTIONS = 5
MAX_AMOUNT_ONLY = 3  # an amount shared by more open invoices than this says nothing
MAX_CUSTOMERS_PER_LINE = 3
# What a match, a "not a payment" and an undo write on the line besides its status.
MATCH_FIELDS = ["customer", "match_method", "matched_by", "matched_at", "note"]


def _number_pattern(kind: str) -> tuple[re.Pattern, str, int]:
    spec = DOCUMENT_KINDS[kind]
    pattern = re.compile(rf"(?<![A-Za-z]){re.escape(spec.prefix)}[\s\-_/]?(20\d\d)[\s\-_/]?(\d{{1,{spec.width}}})(?!\d)", re.I)
    return pattern, spec.prefix, spec.width


INVOICE_NUMBER = _number_pattern("invoice")
ORDER_NUMBER = _number_pattern("sales_order")


def numbers_in(text: str, kind: tuple[re.Pattern, str, int]) -> list[str]:
    """Document numbers written in a memo, however the payer spaced them: INV-2026-000123, INV2026000123, inv 2026 123."""
    pattern, prefix, width = kind
    return [f"{prefix}-{year}-{int(serial):0{width}d}" for year, serial in pattern.findall(text or "")]


_NAME_NOISE = str.maketrans({"（": "(", "）": ")", "\u3000": " "})


def name_key(name: str) -> str:
    """A company name as compared: no spaces, ASCII brackets, case-folded."""
    return "".join((name or "").translate(_NAME_NOISE).split()).casefold()


@dataclass
class Proposal:
    invoice_id: int
    customer_id: int
    method: str
    score: int
    amount: Decimal


@dataclass
class LinePlan:
    """What the matcher found for one line: suggestions, and the allocation to apply when it is exact."""

    proposals: list[Proposal] = field(default_factory=list)
    exact_customer: int | None = None
    exact_method: str = ""
    exact_allocations: list[tuple[int, Decimal]] = field(default_factory=list)


@dataclass
class MatchOutcome:
    applied: int = 0
    suggested: int = 0
    pending: int = 0  # exact matches left for the background (more than the inline limit)
    plans: dict[int, LinePlan] = field(default_factory=dict)


def _open_invoices():
    return (
        Invoice.objects.open()
        .annotate(open=F("total_gross") - F("amount_credited") - F("amount_paid"))
        .values("id", "number", "customer_id", "currency", "due_date", "open")
    )


class _Index:
    """The open invoices and customers a batch of lines may refer to, read in a few queries."""

    def __init__(self, lines: Sequence[BankStatementLine]):
        texts = {line.pk: f"{line.memo} {line.reference}" for line in lines}
        self.invoice_numbers = {pk: numbers_in(text, INVOICE_NUMBER) for pk, text in texts.items()}
        self.order_numbers = {pk: numbers_in(text, ORDER_NUMBER) for pk, text in texts.items()}
        self.invoices: dict[int, dict] = {}
        wanted_invoices = {n for numbers in self.invoice_numbers.values() for n in numbers}
        wanted_orders = {n for numbers in self.order_numbers.values() for n in numbers}
        self.by_number: dict[str, int] = {}
        if wanted_invoices:
            for row in _open_invoices().filter(number__in=wanted_invoices):
                self.invoices[row["id"]] = row
                self.by_number[row["number"]] = row["id"]
        self.by_order: dict[str, list[int]] = defaultdict(list)
        if wanted_orders:
            pairs = (
                InvoiceLine.objects.filter(order__number__in=wanted_orders, invoice__in=Invoice.objects.open())
                .order_by()
                .values_list("order__number", "invoice_id")
                .distinct()
            )
            pairs = list(pairs)
            missing = {invoice_id for _n, invoice_id in pairs} - set(self.invoices)
            if missing:
                self.invoices.update({row["id"]: row for row in _open_invoices().filter(id__in=missing)})
            for number, invoice_id in pairs:
                if invoice_id in self.invoices:
                    self.by_order[number].append(invoice_id)
        accounts = {line.counterparty_key for line in lines if line.counterparty_key}
        self.customers_by_account: dict[str, list[int]] = defaultdict(list)
        for key, customer_id in PayerAccount.objects.filter(account_key__in=accounts).values_list("account_key", "customer_id"):
            self.customers_by_account[key].append(customer_id)
        names = {line.counterparty_name.strip() for line in lines if line.counterparty_name.strip()}
        self.customers_by_name: dict[str, list[int]] = defaultdict(list)
        if names:
            for customer_id, name in Customer.objects.filter(name__in=names).values_list("id", "name"):
                self.customers_by_name[name_key(name)].append(customer_id)
        customer_ids = {c for ids in self.customers_by_account.values() for c in ids} | {
            c for ids in self.customers_by_name.values() for c in ids
        }
        self.by_customer: dict[int, list[int]] = defaultdict(list)
        if customer_ids:
            for row in _open_invoices().filter(customer_id__in=customer_ids).order_by("due_date", "id"):
                self.invoices.setdefault(row["id"], row)
                self.by_customer[row["customer_id"]].append(row["id"])
        amounts = {line.amount for line in lines}
        self.by_amount: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
        if amounts:
            for row in _open_invoices().filter(open__in=amounts).order_by("due_date", "id"):
                self.invoices.setdefault(row["id"], row)
                self.by_amount[(row["currency"], row["open"])].append(row["id"])


def _plan(line: BankStatementLine, index: _Index) -> LinePlan:
    plan = LinePlan()
    found: dict[int, Proposal] = {}

    def propose(invoice_id: int, method: str, amount: Decimal, bonus: int = 0) -> None:
        invoice = index.invoices[invoice_id]
        if invoice["currency"] != line.currency or invoice_id in found:
            return
        found[invoice_id] = Proposal(invoice_id, invoice["customer_id"], method, SCORES[method] + bonus, amount)

    # 1. Invoice or order numbers written in the memo.
    referenced = [index.by_number[n] for n in index.invoice_numbers.get(line.pk, []) if n in index.by_number]
    for number in index.order_numbers.get(line.pk, []):
        referenced.extend(index.by_order.get(number, []))
    referenced = [i for i in dict.fromkeys(referenced) if index.invoices[i]["currency"] == line.currency]
    rest = line.amount
    for invoice_id in referenced:
        share = min(index.invoices[invoice_id]["open"], max(rest, ZERO))
        rest -= share
        propose(invoice_id, MatchMethod.NUMBER, share if share > 0 else index.invoices[invoice_id]["open"])
    if referenced:
        customers = {index.invoices[i]["customer_id"] for i in referenced}
        total = sum((index.invoices[i]["open"] for i in referenced), ZERO)
        if len(customers) == 1 and total == line.amount:
            plan.exact_customer, plan.exact_method = customers.pop(), MatchMethod.NUMBER
            plan.exact_allocations = [(i, index.invoices[i]["open"]) for i in referenced]
    # 2. The payer: by an account the customer paid from before, else by the customer's name.
    by_account = index.customers_by_account.get(line.counterparty_key, []) if line.counterparty_key else []
    by_name = index.customers_by_name.get(name_key(line.counterparty_name), []) if line.counterparty_name else []
    payers = [(c, MatchMethod.ACCOUNT) for c in by_account] + [(c, MatchMethod.NAME) for c in by_name if c not in by_account]
    for customer_id, method in payers[:MAX_CUSTOMERS_PER_LINE]:
        invoice_ids = [i for i in index.by_customer.get(customer_id, []) if index.invoices[i]["currency"] == line.currency]
        equal = [i for i in invoice_ids if index.invoices[i]["open"] == line.amount]
        for invoice_id in equal + [i for i in invoice_ids if i not in equal]:
            open_amount = index.invoices[invoice_id]["open"]
            propose(invoice_id, method, min(open_amount, line.amount), EXACT_AMOUNT_BONUS if invoice_id in equal else 0)
        if plan.exact_customer is None and not referenced and len(payers) == 1 and len(equal) == 1:
            plan.exact_customer, plan.exact_method = customer_id, method
            plan.exact_allocations = [(equal[0], line.amount)]
    # 3. Open invoices of exactly this amount (a hint, never applied on its own).
    same_amount = index.by_amount.get((line.currency, line.amount), [])
    if len(same_amount) <= MAX_AMOUNT_ONLY:
        for invoice_id in same_amount:
            propose(invoice_id, MatchMethod.AMOUNT, line.amount)
    plan.proposals = sorted(found.values(), key=lambda p: (-p.score, p.invoice_id))[:MAX_SUGGESTIONS]
    return plan


def lines_plan(lines: Sequence[BankStatementLine]) -> dict[int, LinePlan]:
    """What the matcher finds for each open money-in line among these (nothing is written)."""
    credit_lines = [line for line in lines if line.amount > 0 and line.status == LineStatus.UNMATCHED]
    if not credit_lines:
        return {}
    index = _Index(credit_lines)
    return {line.pk: _plan(line, index) for line in credit_lines}


def suggestions_store(plans: dict[int, LinePlan]) -> None:
    """Store the suggestions of these lines' plans, replacing the lines' earlier ones."""
    if not plans:
        return
    rows = [(line_id, p.invoice_id, str(p.method), p.score, p.amount) for line_id, plan in plans.items() for p in plan.proposals]
    with transaction.atomic():
        MatchSuggestion.objects.filter(line__in=list(plans)).delete()
        _suggestions_insert(rows)


def lines_suggest(lines: Sequence[BankStatementLine]) -> dict[int, LinePlan]:
    """Work out and store the suggestions of these lines (their earlier suggestions are replaced)."""
    plans = lines_plan(lines)
    suggestions_store(plans)
    return plans


SUGGESTION_FIELDS = ("line", "invoice", "method", "score", "amount")


def _suggestions_insert(rows: list[tuple]) -> None:
    """Write suggestion rows: PostgreSQL's COPY for a whole import (tens of thousands of rows), else bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MatchSuggestion.objects.bulk_create(
            [MatchSuggestion(line_id=line, invoice_id=invoice, method=method, score=score, amount=amount)
             for line, invoice, method, score, amount in rows]
        )  # fmt: skip
        return
    meta = MatchSuggestion._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in SUGGESTION_FIELDS)
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def lines_match(
    *, lines: Sequence[BankStatementLine], actor: Actor, auto_apply: bool, inline_limit: int | None = None
) -> MatchOutcome:
    """Suggest invoices for each money-in line; with auto_apply, record the exact matches as payments
    (all together, through the payments services' bulk path) — unless there are more than
    `inline_limit` of them: then they are only counted as pending, for the background to apply.
    The lines matched here keep no suggestion, so theirs are not written at all."""
    plans = lines_plan(lines)
    outcome = MatchOutcome(plans=plans, suggested=sum(1 for plan in plans.values() if plan.proposals))
    matched: set[int] = set()
    if auto_apply:
        exact = {line_id: plan for line_id, plan in plans.items() if plan.exact_customer is not None}
        if inline_limit is not None and len(exact) > inline_limit:
            outcome.pending = len(exact)
        else:
            matched = _apply_exact(plans=exact, actor=actor)
            outcome.applied = len(matched)
    suggestions_store({line_id: plan for line_id, plan in plans.items() if line_id not in matched})
    return outcome


def lines_accept_each(*, plans: dict[int, LinePlan], actor: Actor) -> int:
    """Each exact match through line_accept, in its own transaction (a refused one waits in the queue)."""
    return len(_accept_each(plans=plans, actor=actor))


def _accept_each(*, plans: dict[int, LinePlan], actor: Actor) -> set[int]:
    lines = BankStatementLine.objects.in_bulk(list(plans))
    invoices = Invoice.objects.in_bulk({i for plan in plans.values() for i, _a in plan.exact_allocations})
    customers = Customer.objects.in_bulk({plan.exact_customer for plan in plans.values()})
    applied = set()
    for line_id, plan in plans.items():
        try:
            line_accept(
                line=lines[line_id],
                customer=customers[plan.exact_customer],
                allocations=[(invoices[i], amount) for i, amount in plan.exact_allocations],
                actor=actor,
                method=plan.exact_method,
            )
        except (DomainError, PermissionRefused):
            continue  # it waits in the queue with its suggestions
        applied.add(line_id)
    return applied


def _line_refusal(line: BankStatementLine, customer_id: int, allocations: Sequence[tuple[int, Decimal]], owners: dict) -> str:
    """What line_accept refuses of a locked line and its allocations (the code; "" when it may be accepted)."""
    if line.status != LineStatus.UNMATCHED:
        return "line_not_open"
    if line.amount <= 0:
        return "line_not_credit"
    if line.currency != settings.CURRENCY:
        return "line_currency"
    if sum((Decimal(amount) for _invoice, amount in allocations), ZERO) > line.amount:
        return "line_over_allocated"
    if any(owners.get(invoice_id) != customer_id for invoice_id, _amount in allocations):
        return "line_other_customer"
    return ""


def lines_accept_exact(*, plans: dict[int, LinePlan], actor: Actor) -> int:
    """Apply exact matches {line id: plan} as line_accept would one line at a time — same checks, the
    same payments, allocations, timelines, outbox events and remembered payers — in one transaction
    of a fixed number of queries (payments_record_bulk). Lines refused stay in the queue. Should a
    payment for one of the lines appear concurrently (or the batch be refused as a whole), the batch
    is undone and done one line at a time. Returns how many lines were matched."""
    return len(_apply_exact(plans=plans, actor=actor))


def _apply_exact(*, plans: dict[int, LinePlan], actor: Actor) -> set[int]:
    """lines_accept_exact, answering which lines were matched."""
    actor = Actor.of(actor)
    if not plans:
        return set()
    try:
        _require(actor)
        with transaction.atomic():
            return _accept_exact(plans, actor)
    except PermissionRefused:
        return set()
    except (IntegrityError, DomainError):
        return _accept_each(plans=plans, actor=actor)


def _accept_exact(plans: dict[int, LinePlan], actor: Actor) -> set[int]:
    locked = {
        line.pk: line
        for line in BankStatementLine.objects.select_for_update(of=("self",)).filter(pk__in=sorted(plans)).order_by("pk")
    }
    owners = dict(
        Invoice.objects.filter(pk__in={i for plan in plans.values() for i, _a in plan.exact_allocations}).values_list(
            "pk", "customer_id"
        )
    )
    accepted: list[tuple[BankStatementLine, LinePlan]] = []
    receipts: list[Receipt] = []
    for line_id, plan in plans.items():
        line = locked.get(line_id)
        if line is None or _line_refusal(line, plan.exact_customer, plan.exact_allocations, owners):
            continue
        accepted.append((line, plan))
        receipts.append(
            Receipt(
                customer_id=plan.exact_customer,
                amount=line.amount,
                date=min(line.booking_date, timezone.localdate()),
                source=line,
                allocations=tuple((invoice_id, amount) for invoice_id, amount in plan.exact_allocations if Decimal(amount) > 0),
                payer_name=line.counterparty_name,
                payer_account=line.counterparty_account,
                reference=line.bank_ref or line.reference,
            )
        )
    if not receipts:
        return set()
    answers = payments_record_bulk(receipts=receipts, by=actor)
    matched = [(line, plan) for (line, plan), answer in zip(accepted, answers, strict=True) if isinstance(answer, Payment)]
    if not matched:
        return set()
    now = timezone.now()
    for line, plan in matched:
        line.customer_id, line.match_method, line.matched_by, line.matched_at = (
            plan.exact_customer,
            plan.exact_method,
            actor.user_or_none,
            now,
        )
    lines = [line for line, _plan in matched]
    transitions_fire(objs=lines, transition="match", actor=actor)
    rows_update(lines, ["status", *MATCH_FIELDS])
    outbox_publish_many(
        topic=f"{BankStatementLine._meta.label_lower}.match",
        payloads=[{"id": line.pk, "from": LineStatus.UNMATCHED, "to": LineStatus.MATCHED} for line in lines],
    )
    MatchSuggestion.objects.filter(line__in=[line.pk for line in lines]).delete()
    _remember_payers([(line, line.customer_id) for line in lines])
    return {line.pk for line in lines}


def _remember_payers(matched: Sequence[tuple[BankStatementLine, int]]) -> None:
    """_remember_payer for many lines in turn: a new account takes the first line's number and name; its
    last use is the latest booking date (two queries and the writes)."""
    keyed = [(line, customer_id) for line, customer_id in matched if line.counterparty_key]
    if not keyed:
        return
    known = {
        (payer.customer_id, payer.account_key): payer
        for payer in PayerAccount.objects.filter(
            customer_id__in={c for _line, c in keyed}, account_key__in={line.counterparty_key for line, _c in keyed}
        )
    }
    new: dict[tuple[int, str], PayerAccount] = {}
    used: dict[tuple[int, str], object] = {}
    for line, customer_id in keyed:
        key = (customer_id, line.counterparty_key)
        if key not in known and key not in new:
            new[key] = PayerAccount(
                customer_id=customer_id,
                account_key=line.counterparty_key,
                account_number=line.counterparty_account[:60],
                payer_name=line.counterparty_name[:200],
                last_used=line.booking_date,
            )
        elif key in new:
            new[key].last_used = max(new[key].last_used, line.booking_date)
        else:
            used[key] = max(used.get(key, line.booking_date), line.booking_date)
    PayerAccount.objects.bulk_create(list(new.values()), batch_size=1000)
    later = []
    for key, day in used.items():
        payer = known[key]
        if payer.last_used is None or payer.last_used < day:
            payer.last_used = day
            later.append(payer)
    rows_update(later, ["last_used"])


# --- the clerk's actions -----------------------------------------------------------------------


def _require(actor: Actor) -> None:
    if not actor.has_perm(RECONCILE_PERMISSION):
        raise PermissionRefused(_("You are not allowed to reconcile bank statements."))


def _lock_line(line: BankStatementLine) -> BankStatementLine:
    return BankStatementLine.objects.select_for_update(of=("self",)).get(pk=line.pk)


def _remember_payer(line: BankStatementLine, customer: Customer) -> None:
    if not line.counterparty_key:
        return
    payer, created = PayerAccount.objects.get_or_create(
        customer=customer,
        account_key=line.counterparty_key,
        defaults={
            "account_number": line.counterparty_account[:60],
            "payer_name": line.counterparty_name[:200],
            "last_used": line.booking_date,
        },
    )
    if not created and (payer.last_used is None or payer.last_used < line.booking_date):
        PayerAccount.objects.filter(pk=payer.pk).update(last_used=line.booking_date)


@transaction.atomic
def line_accept(
    *,
    line: BankStatementLine,
    customer: Customer,
    allocations: Sequence[tuple[Invoice, Decimal]],
    actor: Actor,
    method: str = MatchMethod.MANUAL,
) -> BankStatementLine:
    """Money in pays the customer's invoices (one, or split over several); what is left is their advance.

    The payment is recorded through the payments services with the line as its source, so a line
    is recorded once; the payer's account is remembered for the customer."""
    actor = Actor.of(actor)
    _require(actor)
    locked = _lock_line(line)
    if locked.status != LineStatus.UNMATCHED:
        raise DomainError(_("This line is already reconciled."), code="line_not_open")
    if locked.amount <= 0:
        raise DomainError(_("Only money received can pay invoices."), code="line_not_credit")
    if locked.currency != settings.CURRENCY:
        raise DomainError(
            _("Payments in %(currency)s are recorded by hand on the payments page.") % {"currency": locked.currency},
            code="line_currency",
        )
    total = sum((Decimal(amount) for _invoice, amount in allocations), ZERO)
    if total > locked.amount:
        raise DomainError(
            _("The amounts (%(total)s) are more than the line brought (%(amount)s).") % {"total": total, "amount": locked.amount},
            code="line_over_allocated",
        )
    if any(invoice.customer_id != customer.pk for invoice, _amount in allocations):
        raise DomainError(_("Every invoice must be the same customer's."), code="line_other_customer")
    payment_record(
        customer=customer,
        amount=locked.amount,
        date=min(locked.booking_date, timezone.localdate()),
        method=PaymentMethod.BANK_TRANSFER,
        by=actor,
        payer_name=locked.counterparty_name,
        payer_account=locked.counterparty_account,
        reference=locked.bank_ref or locked.reference,
        source=locked,
        allocations=[(invoice, amount) for invoice, amount in allocations if Decimal(amount) > 0],
    )
    locked.customer, locked.match_method, locked.matched_by, locked.matched_at = (
        customer,
        method,
        actor.user_or_none,
        timezone.now(),
    )
    transition_apply(obj=locked, transition="match", actor=actor, lock=False, update_fields=MATCH_FIELDS)
    MatchSuggestion.objects.filter(line=locked).delete()
    _remember_payer(locked, customer)
    return locked


@transaction.atomic
def lines_combine(*, lines: Sequence[BankStatementLine], invoice: Invoice, actor: Actor) -> list[BankStatementLine]:
    """Several lines pay one invoice together: each becomes a payment allocated to it, up to what is open."""
    actor = Actor.of(actor)
    _require(actor)
    ordered = sorted({line.pk: line for line in lines}.values(), key=lambda line: line.pk)
    if len(ordered) < 2:
        raise DomainError(_("Choose at least two lines to combine."), code="combine_too_few")
    customer = Customer.objects.get(pk=invoice.customer_id)
    open_amount = Invoice.objects.get(pk=invoice.pk).open_amount
    matched = []
    for line in ordered:
        share = min(line.amount, max(open_amount, ZERO))
        open_amount -= share
        matched.append(
            line_accept(line=line, customer=customer, allocations=[(invoice, share)] if share > 0 else [], actor=actor)
        )
    return matched


@transaction.atomic
def line_ignore(*, line: BankStatementLine, actor: Actor, note: str = "") -> BankStatementLine:
    """The line is not a customer payment (fees, transfers between own accounts…): it leaves the queue."""
    actor = Actor.of(actor)
    _require(actor)
    locked = _lock_line(line)
    if locked.status != LineStatus.UNMATCHED:
        raise DomainError(_("This line is already reconciled."), code="line_not_open")
    locked.note, locked.matched_by, locked.matched_at = note.strip()[:300], actor.user_or_none, timezone.now()
    return transition_apply(obj=locked, transition="ignore", actor=actor, lock=False, update_fields=MATCH_FIELDS)


def line_payment(line: BankStatementLine) -> Payment | None:
    """The payment recorded for a matched line (None when there is none)."""
    return (
        Payment.objects.filter(
            source_type=ContentType.objects.get_for_model(BankStatementLine),
            source_id=line.pk,
            state=PaymentRecordState.RECORDED,
        )
        .select_related("customer")
        .first()
    )


@transaction.atomic
def line_undo(*, line: BankStatementLine, actor: Actor, note: str = "") -> BankStatementLine:
    """Undo a match (its payment is voided, the invoices open again) or a "not a payment": the line waits again."""
    actor = Actor.of(actor)
    _require(actor)
    locked = _lock_line(line)
    if locked.status == LineStatus.UNMATCHED:
        raise DomainError(_("This line is not reconciled."), code="line_open")
    if locked.status == LineStatus.MATCHED and (payment := line_payment(locked)) is not None:
        payment_void(payment=payment, by=actor, note=note or _("Bank line match undone."))
    locked.customer, locked.match_method, locked.matched_by, locked.matched_at, locked.note = None, "", None, None, ""
    reopened = transition_apply(obj=locked, transition="reopen", actor=actor, lock=False, update_fields=MATCH_FIELDS)
    lines_suggest([reopened])
    return reopened


def lines_for(ids: Iterable[int]) -> list[BankStatementLine]:
    return list(BankStatementLine.objects.filter(pk__in=list(ids)).order_by("pk"))

"""Importing bank statement files: each line once per account, all or nothing, then matched.

`bank_file_import` reads the file (any of the parsers), finds each statement's account, stores
the lines not seen before in one transaction (a file already imported, or the part of an
overlapping file seen before, adds nothing), flags statements whose balances do not add up, and
hands the new money-in lines to the matcher.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from config.actors import Actor
from config.bulk import collector_paused, objects_like, rows_insert
from config.errors import DomainError, PermissionRefused

from .models import IMPORT_PERMISSION, BankAccount, BankFileMapping, BankImport, BankStatement, BankStatementLine, LineStatus
from .parsing import BankFileError, ParsedEntry, ParsedStatement, parse_statement_file
from .parsing.formats import FORMAT_AUTO, FORMATS
from .parsing.mappings import BUILT_IN_MAPPINGS, ColumnMapping
from .parsing.types import normalize_account
from .reconciliation import MatchOutcome, lines_match

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_FIELD_LIMITS = {"bank_ref": 100, "reference": 100, "counterparty_name": 200, "counterparty_account": 60, "memo": 500}


@dataclass
class ImportSummary:
    """What one import did, for the page and the command."""

    bank_import: BankImport
    statements: list[BankStatement] = field(default_factory=list)
    imported: int = 0
    skipped: int = 0
    matched: int = 0
    suggested: int = 0
    pending: int = 0
    already_imported: bool = False
    lines: list[BankStatementLine] = field(default_factory=list, repr=False)  # the lines stored by this import

    @property
    def warnings(self) -> list[BankStatement]:
        return [statement for statement in self.statements if statement.balance_mismatch]


def max_file_bytes() -> int:
    return int(getattr(settings, "BANK_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _clip(value: str, limit: int) -> str:
    return (value or "")[:limit]


def line_key(entry: ParsedEntry, ordinal: int) -> str:
    """The line's identity on its account: the bank's id with date and amount, else date, amount,
    counterparty, memo and how many identical lines came before it in the same statement."""
    if entry.bank_ref:
        basis = f"ref|{entry.booking_date.isoformat()}|{entry.bank_ref}|{entry.amount}"
        return "r:" + hashlib.sha256(basis.encode()).hexdigest()[:48]
    return "k:" + hashlib.sha256(_stable_basis(entry, ordinal).encode()).hexdigest()[:48]


def _stable_basis(entry: ParsedEntry, ordinal: int) -> str:
    return "|".join(
        [
            entry.booking_date.isoformat(),
            str(entry.amount),
            normalize_account(entry.counterparty_account),
            " ".join(entry.counterparty_name.split()).casefold(),
            " ".join(entry.memo.split()).casefold(),
            str(ordinal),
        ]
    )


def _statement_keys(statement: ParsedStatement) -> list[str]:
    seen: Counter[str] = Counter()
    keys = []
    for entry in statement.entries:
        basis = _stable_basis(entry, 0)
        keys.append(line_key(entry, seen[basis]))
        seen[basis] += 1
    return keys


def _account_for(statement: ParsedStatement, chosen: BankAccount | None, accounts: dict[str, BankAccount]) -> BankAccount:
    number = normalize_account(statement.account)
    # MT940's :25: may be "BANKCODE/ACCOUNT": the part after the last slash is the account.
    candidates = [number, number.rsplit("/", 1)[-1]] if number else []
    if chosen is not None:
        if number and chosen.number_key not in candidates:
            raise DomainError(
                _("The file is a statement of account %(number)s, not of %(account)s.")
                % {"number": statement.account, "account": chosen},
                code="bank_account_mismatch",
                field="account",
            )
        return chosen
    if not number:
        raise DomainError(
            _("The file does not say which account it is for: choose the bank account."),
            code="bank_account_missing",
            field="account",
        )
    for candidate in candidates:
        if candidate in accounts:
            return accounts[candidate]
    raise DomainError(
        _("No bank account with number %(number)s is set up: add it under Bank accounts, or choose the account.")
        % {"number": statement.account},
        code="bank_account_unknown",
        field="account",
    )


def _mappings_for(mapping: BankFileMapping | ColumnMapping | None, account: BankAccount | None) -> list[ColumnMapping]:
    """The mapping chosen, else the account's, else every built-in and saved one (the header decides)."""
    if isinstance(mapping, ColumnMapping):
        return [mapping]
    if mapping is not None:
        return [mapping.as_column_mapping()]
    if account is not None and account.file_mapping_id:
        return [account.file_mapping.as_column_mapping()]
    return [*BUILT_IN_MAPPINGS, *(m.as_column_mapping() for m in BankFileMapping.objects.order_by("name"))]


@collector_paused()
def bank_file_import(
    *,
    raw: bytes,
    filename: str,
    actor: Actor,
    account: BankAccount | None = None,
    file_format: str = FORMAT_AUTO,
    mapping: BankFileMapping | ColumnMapping | None = None,
    auto_apply: bool | None = None,
    inline: bool = True,
) -> ImportSummary:
    """Import a bank file: new lines stored once per account, all or nothing; then matched.

    Exact matches are applied at once, up to settings.BANK_AUTO_APPLY_INLINE of them; a larger
    batch is left pending (`summary.pending`) for bank_import_apply_pending in the background.
    `inline=False` applies them all here (the command line)."""
    actor = Actor.of(actor)
    if not actor.has_perm(IMPORT_PERMISSION):
        raise PermissionRefused(_("You are not allowed to import bank statements."))
    if file_format not in FORMATS:
        raise DomainError(_("Unknown file format “%(format)s”.") % {"format": file_format}, code="bank_format_unknown")
    if len(raw) > max_file_bytes():
        raise DomainError(
            _("The file is too large (at most %(mb)s MB).") % {"mb": max_file_bytes() // (1024 * 1024)},
            code="bank_file_too_large",
        )
    digest = hashlib.sha256(raw).hexdigest()
    previous = BankImport.objects.filter(file_sha256=digest).first()
    if previous is not None:
        return ImportSummary(bank_import=previous, skipped=previous.line_count, already_imported=True)
    try:
        parsed = parse_statement_file(raw, filename=filename, file_format=file_format, mappings=_mappings_for(mapping, account))
    except BankFileError as error:
        raise DomainError(_("The file cannot be imported: %(reason)s") % {"reason": error}, code="bank_file_invalid")
    if not any(statement.entries for statement in parsed.statements) and all(
        s.opening_balance is None and s.closing_balance is None for s in parsed.statements
    ):
        raise DomainError(_("The file holds no statement lines."), code="bank_file_empty")
    try:
        with transaction.atomic():
            summary = _store(parsed=parsed, digest=digest, filename=filename, actor=actor, account=account)
    except IntegrityError:
        # The same file (or an overlapping one of the same account) was imported at the same moment.
        previous = BankImport.objects.filter(file_sha256=digest).first()
        if previous is not None:
            return ImportSummary(bank_import=previous, skipped=previous.line_count, already_imported=True)
        raise DomainError(
            _("Another import of this account ran at the same time; import the file again."), code="bank_import_busy"
        )
    apply = settings.BANK_AUTO_APPLY_EXACT if auto_apply is None else auto_apply
    outcome: MatchOutcome = lines_match(
        lines=[line for line in summary.lines if line.amount > 0],
        actor=actor,
        auto_apply=apply,
        inline_limit=settings.BANK_AUTO_APPLY_INLINE if inline else None,
    )
    summary.matched, summary.suggested, summary.pending = outcome.applied, outcome.suggested, outcome.pending
    if outcome.applied or outcome.pending:
        BankImport.objects.filter(pk=summary.bank_import.pk).update(
            matched_count=outcome.applied, auto_apply_pending=bool(outcome.pending)
        )
        summary.bank_import.matched_count = outcome.applied
        summary.bank_import.auto_apply_pending = bool(outcome.pending)
    return summary


APPLY_CHUNK = 1000


@collector_paused()
def bank_import_apply_pending(*, bank_import_id: int) -> int:
    """Apply the exact matches an import left for the background, a chunk of lines at a time through
    the payments services' bulk path; safe to run twice (a line already reconciled is skipped).
    Returns how many it applied."""
    bank_import = BankImport.objects.select_related("imported_by").filter(pk=bank_import_id).first()
    if bank_import is None or not bank_import.auto_apply_pending:
        return 0
    actor = Actor.of(bank_import.imported_by) if bank_import.imported_by else Actor.system("import")
    ids = list(
        BankStatementLine.objects.filter(
            statement__bank_import=bank_import, amount__gt=0, status=LineStatus.UNMATCHED
        ).values_list("pk", flat=True)
    )
    applied = 0
    for start in range(0, len(ids), APPLY_CHUNK):
        lines = list(BankStatementLine.objects.filter(pk__in=ids[start : start + APPLY_CHUNK], status=LineStatus.UNMATCHED))
        done = lines_match(lines=lines, actor=actor, auto_apply=True).applied
        BankImport.objects.filter(pk=bank_import.pk).update(matched_count=F("matched_count") + done)
        applied += done
    BankImport.objects.filter(pk=bank_import.pk).update(auto_apply_pending=False)
    return applied


def _store(*, parsed, digest: str, filename: str, actor: Actor, account: BankAccount | None) -> ImportSummary:
    accounts = {a.number_key: a for a in BankAccount.objects.filter(is_active=True)}
    targets = [_account_for(statement, account, accounts) for statement in parsed.statements]
    # One import per account at a time: the accounts' rows are locked in key order.
    locked = {a.pk: a for a in BankAccount.objects.select_for_update().filter(pk__in={t.pk for t in targets}).order_by("pk")}
    for statement, target in zip(parsed.statements, targets, strict=True):
        statement.currency = statement.currency or target.currency
        if statement.currency != target.currency:
            raise DomainError(
                _("The statement is in %(currency)s but the account %(account)s is kept in %(account_currency)s.")
                % {"currency": statement.currency, "account": target, "account_currency": target.currency},
                code="bank_currency_mismatch",
            )
    bank_import = BankImport.objects.create(
        file_name=_clip(filename, 255) or "upload",
        file_sha256=digest,
        file_format=parsed.format,
        mapping_name=str(parsed.mapping.name) if parsed.mapping else "",
        line_count=sum(len(s.entries) for s in parsed.statements),
        imported_by=actor.user_or_none,
    )
    summary = ImportSummary(bank_import=bank_import)
    claimed: dict[int, set[str]] = {}
    for position, (parsed_statement, target) in enumerate(zip(parsed.statements, targets, strict=True), start=1):
        account_row = locked[target.pk]
        keys = _statement_keys(parsed_statement)
        existing = set(
            BankStatementLine.objects.filter(account=account_row, dedup_key__in=set(keys)).values_list("dedup_key", flat=True)
        )
        taken = claimed.setdefault(account_row.pk, set())
        balances_add_up = parsed_statement.balances_add_up
        statement = BankStatement.objects.create(
            bank_import=bank_import,
            account=account_row,
            position=position,
            reference=_clip(parsed_statement.statement_id, 255),
            period_start=parsed_statement.first_date(),
            period_end=parsed_statement.last_date(),
            currency=parsed_statement.currency,
            opening_balance=parsed_statement.opening_balance,
            closing_balance=parsed_statement.closing_balance,
            movement=parsed_statement.movement,
            balance_mismatch=balances_add_up is False,
            line_count=len(parsed_statement.entries),
        )
        changes = []
        for entry, key in zip(parsed_statement.entries, keys, strict=True):
            if key in existing or key in taken:
                summary.skipped += 1
                continue
            taken.add(key)
            changes.append(
                {
                    "dedup_key": key,
                    "booking_date": entry.booking_date,
                    "value_date": entry.value_date,
                    "amount": entry.amount,
                    "currency": entry.currency or parsed_statement.currency,
                    "is_reversal": entry.reversal,
                    "transaction_code": _clip(entry.transaction_code, 40),
                    "counterparty_key": _clip(normalize_account(entry.counterparty_account), 60),
                    **{name: _clip(getattr(entry, name), limit) for name, limit in _FIELD_LIMITS.items()},
                }
            )
        # Every line of the statement is a copy of one prototype, with its own values.
        new_lines = objects_like(BankStatementLine(statement=statement, account=account_row), changes)
        rows_insert(new_lines)
        summary.lines.extend(new_lines)
        statement.imported_count = len(new_lines)
        statement.save(update_fields=["imported_count"])
        summary.imported += len(new_lines)
        summary.statements.append(statement)
    bank_import.imported_count, bank_import.skipped_count = summary.imported, summary.skipped
    bank_import.save(update_fields=["imported_count", "skipped_count"])
    return summary


@transaction.atomic
def bank_account_save(account: BankAccount, *, actor: Actor) -> BankAccount:
    """Create or change one of the company's bank accounts; its number is compared without spaces or dashes."""
    actor = Actor.of(actor)
    if not actor.has_perm("billing.change_bankaccount" if account.pk else "billing.add_bankaccount"):
        raise PermissionRefused(_("You are not allowed to change bank accounts."))
    key = normalize_account(account.number)
    if not key:
        raise DomainError(_("Enter the account number."), code="bank_account_number", field="number")
    if BankAccount.objects.filter(number_key=key).exclude(pk=account.pk).exists():
        raise DomainError(_("Another bank account has this number."), code="bank_account_duplicate", field="number")
    account.save()
    return account


@transaction.atomic
def bank_mapping_save(mapping: BankFileMapping, *, actor: Actor) -> BankFileMapping:
    """Create or change a column mapping for a bank's CSV/Excel export."""
    actor = Actor.of(actor)
    if not actor.has_perm("billing.change_bankfilemapping" if mapping.pk else "billing.add_bankfilemapping"):
        raise PermissionRefused(_("You are not allowed to change column mappings."))
    if mapping.created_by_id is None:
        mapping.created_by = actor.user_or_none
    mapping.save()
    return mapping

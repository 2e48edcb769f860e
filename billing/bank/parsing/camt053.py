"""ISO 20022 camt.053 (BankToCustomerStatement), versions .001.02 to .001.08 and later.

Namespace-agnostic: elements are found by their local names, so every version's namespace (and
files whose namespace prefix differs) reads the same. One file may carry several <Stmt>; an
<Ntry> with several <TxDtls> (a batch) gives one line per transaction when their amounts add up
to the entry, else one line for the entry. A DOCTYPE (the only place an entity can be declared)
is refused before the document is read.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError, fromstring
from xml.parsers import expat

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .types import ZERO, BankFileError, ParsedEntry, ParsedStatement

# Entries not (yet) booked on the account are left out of a statement's lines.
UNBOOKED = {"PDNG", "INFO", "FUTR"}
OPENING_CODES = ("OPBD", "PRCD")  # opening booked, else the previous closing booked
CLOSING_CODES = ("CLBD",)
NOT_PROVIDED = {"NOTPROVIDED", "NONREF", ""}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _strip_namespaces(root: Element) -> None:
    """Every element by its local name, whatever the version's namespace (or prefix) was."""
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]


def _children(element: Element | None, name: str) -> list[Element]:
    return element.findall(name) if element is not None else []


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:  # one plain tag at a time: Element.find answers it without the path machinery
        if element is None:
            return None
        element = element.find(name)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _date(element: Element | None) -> date | None:
    """A <Dt> or <DtTm> (ISODate / ISODateTime) inside the given element."""
    text = _text(element, "Dt") or _text(element, "DtTm")
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        raise BankFileError(_("The camt.053 file has an invalid date: “%(value)s”.") % {"value": text[:40]})


def _datetime_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None


def _amount(element: Element | None, what: str) -> tuple[Decimal, str]:
    if element is None or not (element.text or "").strip():
        raise BankFileError(_("The camt.053 file has %(what)s without an amount.") % {"what": what})
    text = element.text.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BankFileError(_("The camt.053 file has an invalid amount: “%(value)s”.") % {"value": text[:40]})
    # ISO 20022 amounts carry up to five decimals ("8.850"); a figure finer than a cent is not money we book.
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -5 or value != value.quantize(Decimal("0.01")):
        raise BankFileError(_("The camt.053 file has an invalid amount: “%(value)s”.") % {"value": text[:40]})
    currency = next((v for k, v in element.attrib.items() if _local(k) == "Ccy"), "")
    return value.quantize(Decimal("0.01")), currency


def _signed(value: Decimal, indicator: str, what: str) -> Decimal:
    if indicator == "CRDT":
        return value
    if indicator == "DBIT":
        return -value
    raise BankFileError(_("The camt.053 file has %(what)s that is neither credit nor debit.") % {"what": what})


def _party_name(party: Element | None) -> str:
    """A party's name: <Nm> directly (up to .001.07) or under <Pty> (from .001.08)."""
    return _text(party, "Nm") or _text(party, "Pty", "Nm")


def _account_id(account: Element | None) -> str:
    """An account's IBAN or other id; from .001.08 the <Id> may sit under <Acct>."""
    return (
        _text(account, "Id", "IBAN")
        or _text(account, "Id", "Othr", "Id")
        or _text(account, "Acct", "Id", "IBAN")
        or _text(account, "Acct", "Id", "Othr", "Id")
    )


def _balances(statement: Element) -> tuple[Decimal | None, Decimal | None]:
    found: dict[str, Decimal] = {}
    for balance in _children(statement, "Bal"):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd") or _text(balance, "Tp", "CdOrPrtry", "Prtry")
        value, _currency = _amount(_child(balance, "Amt"), gettext_lazy("a balance"))
        found.setdefault(code, _signed(value, _text(balance, "CdtDbtInd"), gettext_lazy("a balance")))
    opening = next((found[code] for code in OPENING_CODES if code in found), None)
    closing = next((found[code] for code in CLOSING_CODES if code in found), None)
    return opening, closing


def _remittance(details: Element | None) -> str:
    """The remittance text: every <Ustrd>, then the structured creditor references."""
    parts: list[str] = []
    for info in _children(details, "RmtInf"):
        parts.extend(_text(line) for line in _children(info, "Ustrd"))
        for structured in _children(info, "Strd"):
            parts.append(_text(structured, "CdtrRefInf", "Ref"))
            parts.extend(_text(doc, "Nb") for doc in _children(structured, "RfrdDocInf"))
            parts.extend(_text(line) for line in _children(structured, "AddtlRmtInf"))
    return " ".join(part for part in parts if part)


def _counterparty(details: Element | None, credit: bool) -> tuple[str, str]:
    """Who paid us (the debtor) on a credit, whom we paid (the creditor) on a debit."""
    parties = _child(details, "RltdPties")
    if parties is None:
        return "", ""
    side, ultimate = ("Dbtr", "UltmtDbtr") if credit else ("Cdtr", "UltmtCdtr")
    name = _party_name(_child(parties, side)) or _party_name(_child(parties, ultimate))
    return name, _account_id(_child(parties, side + "Acct"))


def _reference(refs: Element | None) -> str:
    for name in ("EndToEndId", "InstrId", "TxId", "MsgId"):
        value = _text(refs, name)
        if value.upper() not in NOT_PROVIDED:
            return value
    return ""


def _transaction_amount(details: Element, entry_currency: str, entry_indicator: str) -> Decimal | None:
    """A transaction's own signed amount: <Amt> (from .001.03) or <AmtDtls><TxAmt><Amt> (.001.02)."""
    amount = _child(details, "Amt")
    if amount is None:
        amount = _child(details, "AmtDtls", "TxAmt", "Amt")
    if amount is None:
        return None
    value, currency = _amount(amount, gettext_lazy("a transaction"))
    if currency and entry_currency and currency != entry_currency:
        return None  # in another currency than the entry: the entry's amount is the one booked
    return _signed(value, _text(details, "CdtDbtInd") or entry_indicator, gettext_lazy("a transaction"))


def _entry_lines(entry: Element, account_currency: str) -> list[ParsedEntry]:
    value, currency = _amount(_child(entry, "Amt"), gettext_lazy("an entry"))
    indicator = _text(entry, "CdtDbtInd")
    amount = _signed(value, indicator, gettext_lazy("an entry"))
    booking = _date(_child(entry, "BookgDt")) or _date(_child(entry, "ValDt"))
    if booking is None:
        raise BankFileError(_("The camt.053 file has an entry without a booking date."))
    common = {
        "booking_date": booking,
        "value_date": _date(_child(entry, "ValDt")),
        "currency": currency or account_currency,
        "reversal": _text(entry, "RvslInd").lower() in ("true", "1"),
        "transaction_code": "/".join(
            part
            for part in (
                _text(entry, "BkTxCd", "Domn", "Cd"),
                _text(entry, "BkTxCd", "Domn", "Fmly", "Cd"),
                _text(entry, "BkTxCd", "Domn", "Fmly", "SubFmlyCd"),
            )
            if part
        )
        or _text(entry, "BkTxCd", "Prtry", "Cd"),
    }
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    entry_info = _text(entry, "AddtlNtryInf")
    transactions = [tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")]
    credit = amount > 0 or (amount == 0 and indicator == "CRDT")

    def line(details: Element | None, line_amount: Decimal, bank_ref: str) -> ParsedEntry:
        name, account = _counterparty(details, line_amount > 0 or (line_amount == 0 and credit))
        memo = _remittance(details) or _text(details, "AddtlTxInf") or entry_info
        return ParsedEntry(
            amount=line_amount,
            bank_ref=bank_ref,
            reference=_reference(_child(details, "Refs")),
            counterparty_name=name,
            counterparty_account=account,
            memo=memo,
            **common,
        )

    if len(transactions) > 1:
        amounts = [_transaction_amount(tx, currency, indicator) for tx in transactions]
        if all(a is not None for a in amounts) and sum(amounts, ZERO) == amount:
            lines = []
            for index, (tx, tx_amount) in enumerate(zip(transactions, amounts, strict=True), start=1):
                own_ref = _text(tx, "Refs", "AcctSvcrRef")
                bank_ref = own_ref if own_ref and own_ref != entry_ref else (f"{entry_ref}/{index}" if entry_ref else "")
                lines.append(line(tx, tx_amount, bank_ref))
            return lines
        # The details do not add up to the booked amount: keep the entry whole, its memos joined.
        whole = line(None, amount, entry_ref)
        whole.memo = " | ".join(filter(None, [entry_info, *(_remittance(tx) for tx in transactions)]))
        return [whole]
    details = transactions[0] if transactions else None
    bank_ref = entry_ref or _text(details, "Refs", "AcctSvcrRef")
    return [line(details, amount, bank_ref)]


def _statement(element: Element) -> ParsedStatement:
    account = _child(element, "Acct")
    currency = _text(account, "Ccy")
    opening, closing = _balances(element)
    period = _child(element, "FrToDt")
    parsed = ParsedStatement(
        account=_account_id(account),
        currency=currency,
        statement_id=_text(element, "Id") or _text(element, "ElctrncSeqNb"),
        opening_balance=opening,
        closing_balance=closing,
        period_start=_datetime_date(_text(period, "FrDtTm")),
        period_end=_datetime_date(_text(period, "ToDtTm")),
    )
    for entry in _children(element, "Ntry"):
        status = _text(entry, "Sts") or _text(entry, "Sts", "Cd")
        if status.upper() in UNBOOKED:
            continue
        parsed.entries.extend(_entry_lines(entry, currency))
    if not parsed.currency:
        parsed.currency = next((e.currency for e in parsed.entries if e.currency), "")
    return parsed


class _Declared(Exception):
    pass


class _RootReached(Exception):
    pass


def _declares_doctype(raw: bytes) -> bool:
    """Whether the document has a DOCTYPE, read by expat as the parser will read it, up to the root
    element: a DOCTYPE comes before it or not at all, and without one no entity can be declared
    (nor an external one referred to), so the document itself is safe to parse."""

    def declared(*_args):
        raise _Declared

    def reached(*_args):
        raise _RootReached

    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = declared
    scanner.EntityDeclHandler = declared
    scanner.StartElementHandler = reached
    try:
        scanner.Parse(raw, True)
    except _Declared:
        return True
    except (_RootReached, expat.ExpatError, ValueError):
        return False  # the root element (or a flaw the parser reports next)
    return False


def parse_camt053(raw: bytes) -> list[ParsedStatement]:
    """The statements of a camt.053 file (every <Stmt> of its <BkToCstmrStmt>)."""
    if _declares_doctype(raw):
        raise BankFileError(_("The XML file declares a DOCTYPE or entities, which are refused for safety."))
    try:
        root = fromstring(raw)
    except (ParseError, ValueError) as error:
        raise BankFileError(_("The file is not well-formed XML: %(error)s") % {"error": str(error)[:200]})
    _strip_namespaces(root)
    message = root if root.tag == "BkToCstmrStmt" else _child(root, "BkToCstmrStmt")
    if message is None:
        kinds = {"BkToCstmrAcctRpt": "camt.052", "BkToCstmrDbtCdtNtfctn": "camt.054"}
        found = next((kinds[child.tag] for child in root if child.tag in kinds), "")
        if found:
            raise BankFileError(
                _("This is a %(kind)s file, not a camt.053 statement; ask the bank for the end-of-day statement (camt.053).")
                % {"kind": found}
            )
        raise BankFileError(_("The XML file is not a camt.053 bank statement (no BkToCstmrStmt)."))
    statements = [_statement(element) for element in _children(message, "Stmt")]
    if not statements:
        raise BankFileError(_("The camt.053 file holds no statement."))
    return statements

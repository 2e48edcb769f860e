"""SWIFT MT940 customer statements.

Fields: :20: reference, :25: account, :28C: statement/sequence number, :60F:/:60M: opening
balance, :61: statement line (value date, entry date, D/C/RC/RD mark, funds code, amount with a
decimal comma, transaction type, reference for the account owner, //the bank's reference,
supplementary details on the next line), :86: information to the account owner (free text or
structured ?20-?29/?32 and /CODE/ forms), :62F:/:62M: closing balance. A new :20: starts a new
statement; CRLF or LF; SWIFT block wrappers ({1:...}{4: ... -}) are ignored.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .types import BankFileError, ParsedEntry, ParsedStatement, cents

_FIELD = re.compile(r"^:(?P<tag>\d{2}[A-Z]?):(?P<value>.*)$")
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)$")
_LINE = re.compile(
    r"^(?P<value_date>\d{6})(?P<entry_date>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d+(?:,\d*)?)(?P<type>[A-Z][A-Z0-9 ]{3})(?P<rest>.*)$"
)
# Marks and the sign they give: a reversal of a credit takes money out, of a debit puts it back.
_SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1, "EC": 1, "ED": -1}
_NO_REFERENCE = {"NONREF", "NOREF", ""}
# :86: structured with "?NN" subfields (German banks): 20-29 and 60-63 purpose, 32-33 name, 31 account.
_SUBFIELD = re.compile(r"\?(\d{2})")
_PURPOSE_CODES = [f"{n}" for n in range(20, 30)] + ["60", "61", "62", "63"]
# :86: structured with "/CODE/value" (Dutch and other banks).
_SLASH_CODE = re.compile(r"/(NAME|IBAN|ACCT|REMI|EREF|ORDP|BENM|CNTP|BIC|MARF|CSID|TRTP|ADDR|ISDT|PREF|RTRN|ULTD|ULTC)/")
SWIFT_LINE_WIDTH = 65
SUBFIELD_WIDTH = 27  # a ?2x purpose subfield


def _date(text: str, what: str) -> date:
    try:
        return date(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise BankFileError(_("The MT940 file has an invalid date “%(value)s” in %(what)s.") % {"value": text, "what": what})


def _amount(text: str, what: str) -> Decimal:
    if text.isdigit():  # some banks leave out the decimal comma of a whole amount ("C500NTRF")
        text += ","
    if text.count(",") != 1 or len(text.split(",")[1]) > 2:
        raise BankFileError(
            _("The MT940 file has an invalid amount “%(value)s” in %(what)s (a decimal comma is required).")
            % {"value": text, "what": what}
        )
    try:
        return cents(Decimal(text.replace(",", ".").rstrip(".") or "0"))
    except InvalidOperation:
        raise BankFileError(_("The MT940 file has an invalid amount “%(value)s” in %(what)s.") % {"value": text, "what": what})


def _balance(value: str, tag: str) -> tuple[Decimal, str, date]:
    match = _BALANCE.match(value.strip())
    if not match:
        raise BankFileError(_("The MT940 balance :%(tag)s: cannot be read: “%(value)s”.") % {"tag": tag, "value": value[:40]})
    amount = _amount(match["amount"], f":{tag}:")
    return (amount if match["mark"] == "C" else -amount), match["currency"], _date(match["date"], f":{tag}:")


def _join_pieces(pieces: list[str], width: int) -> str:
    """Pieces of one text: a piece of the full width was cut mid-word (glued to the next), a shorter one ended a word."""
    text = ""
    for index, piece in enumerate(pieces):
        if index and len(pieces[index - 1]) < width:
            text += " "
        text += piece
    return " ".join(text.split())


def _join_lines(lines: list[str]) -> str:
    return _join_pieces(lines, SWIFT_LINE_WIDTH)


def _information(lines: list[str]) -> dict[str, str]:
    """The :86: field as memo, counterparty name and account, in whichever form the bank wrote it."""
    joined = "".join(lines)
    if re.match(r"^(\d{3})?\?\d{2}", joined.strip()):
        parts: dict[str, list[str]] = {}
        pieces = _SUBFIELD.split(joined.strip())
        for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
            parts.setdefault(code, []).append(value)
        purpose = _join_pieces([value for code in _PURPOSE_CODES for value in parts.get(code, [])], SUBFIELD_WIDTH)
        return {
            "memo": purpose or " ".join("".join(parts.get("00", [])).split()),
            "counterparty_name": " ".join(("".join(parts.get("32", [])) + "".join(parts.get("33", []))).split()),
            "counterparty_account": "".join(parts.get("31", [])).strip(),
        }
    if _SLASH_CODE.search(joined):
        pieces = _SLASH_CODE.split(joined)
        codes: dict[str, str] = {}
        for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
            codes.setdefault(code, value.strip().rstrip("/"))
        # /CNTP/account/BIC/name/city/ (SEPA) or separate /IBAN/ and /NAME/.
        name, account = codes.get("NAME", ""), codes.get("IBAN", "") or codes.get("ACCT", "")
        if "CNTP" in codes:
            cntp = codes["CNTP"].split("/")
            account = account or cntp[0]
            name = name or (cntp[2] if len(cntp) > 2 else "")
        memo = codes.get("REMI", "")
        if memo.startswith(("USTD//", "STRD/")):
            memo = memo.split("/", 2)[-1].lstrip("/")
        return {
            "memo": " ".join((memo or codes.get("EREF", "") or _join_lines(lines)).split()),
            "counterparty_name": " ".join(name.split()),
            "counterparty_account": account.strip(),
        }
    return {"memo": _join_lines(lines), "counterparty_name": "", "counterparty_account": ""}


def _entry_date(value_date: date, mmdd: str | None) -> date:
    """The booking date: MMDD in the value date's year, or the next/previous one across New Year."""
    if not mmdd:
        return value_date
    month, day = int(mmdd[:2]), int(mmdd[2:])
    year = value_date.year
    if month == 12 and value_date.month == 1:
        year -= 1
    elif month == 1 and value_date.month == 12:
        year += 1
    try:
        return date(year, month, day)
    except ValueError:
        raise BankFileError(_("The MT940 file has an invalid entry date “%(value)s” in :61:.") % {"value": mmdd})


def _statement_line(lines: list[str], currency: str) -> ParsedEntry:
    match = _LINE.match(lines[0].strip())
    if not match:
        raise BankFileError(_("The MT940 statement line :61: cannot be read: “%(value)s”.") % {"value": lines[0][:60]})
    value_date = _date(match["value_date"], ":61:")
    amount = _amount(match["amount"], ":61:")
    rest = match["rest"]
    customer_ref, _sep, bank_ref = rest.partition("//")
    customer_ref, bank_ref = customer_ref.strip(), bank_ref.strip()
    return ParsedEntry(
        booking_date=_entry_date(value_date, match["entry_date"]),
        value_date=value_date,
        amount=amount * _SIGN[match["mark"]],
        currency=currency,
        bank_ref="" if bank_ref.upper() in _NO_REFERENCE else bank_ref,
        reference="" if customer_ref.upper() in _NO_REFERENCE else customer_ref,
        reversal=match["mark"] in ("RC", "RD"),
        transaction_code=match["type"].strip(),
        memo=" ".join(" ".join(lines[1:]).split()),  # supplementary details, until :86: says more
    )


def _fields(text: str) -> list[tuple[str, list[str], int]]:
    """(tag, lines, line number) of each field, continuation lines kept with their field."""
    fields: list[tuple[str, list[str], int]] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip("\r")
        stripped = line.strip()
        if not stripped or stripped == "-" or stripped.startswith(("{1:", "{2:", "{3:", "{5:", "-}")):
            if stripped.startswith("{") and ":20:" in stripped:  # a wrapper and the first field on one line
                line = stripped[stripped.index(":20:") :]
            else:
                continue
        if line.startswith("{4:"):
            line = line[3:]
            if not line.strip():
                continue
        match = _FIELD.match(line)
        if match:
            fields.append((match["tag"], [match["value"]], number))
        elif fields:
            fields[-1][1].append(line)
        # Before the first field banks write headers of their own ("ABNANL2A" / "940", "0000 01INGBNL2AXXXX00001",
        # ":940:", a control character): they are not part of the statement; a file with no :20: is refused later.
    return fields


def looks_like_mt940(text: str) -> bool:
    return (
        bool(re.search(r"(^|\n|\{4:\r?\n?):20:", text))
        and ":61:" in text
        or (":20:" in text and ":25:" in text and (":60F:" in text or ":60M:" in text))
    )


def parse_mt940(raw: bytes) -> list[ParsedStatement]:
    """The statements of an MT940 file, one per :20: block."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # SWIFT's character set is a subset; stray bytes stay readable
    if "\x00" in text:
        raise BankFileError(_("The file contains binary data; it is not an MT940 file."))
    statements: list[ParsedStatement] = []
    current: ParsedStatement | None = None
    last_entry: ParsedEntry | None = None
    for tag, lines, number in _fields(text):
        if tag == "20":
            current = ParsedStatement(statement_id=lines[0].strip())
            statements.append(current)
            last_entry = None
            continue
        if current is None:
            raise BankFileError(
                _("Line %(line)s of the MT940 file: field :%(tag)s: comes before the statement's :20:.")
                % {"line": number, "tag": tag}
            )
        try:
            if tag == "25":
                current.account = lines[0].strip()
            elif tag == "28C" and not current.statement_id:
                current.statement_id = lines[0].strip()
            elif tag in ("60F", "60M"):
                current.opening_balance, current.currency, current.period_start = _balance(lines[0], tag)
            elif tag in ("62F", "62M"):
                current.closing_balance, currency, current.period_end = _balance(lines[0], tag)
                current.currency = current.currency or currency
            elif tag == "61":
                last_entry = _statement_line(lines, current.currency)
                current.entries.append(last_entry)
            elif tag == "86" and last_entry is not None:
                info = _information(lines)
                supplementary = last_entry.memo
                last_entry.memo = info["memo"] or supplementary
                last_entry.counterparty_name = info["counterparty_name"]
                last_entry.counterparty_account = info["counterparty_account"]
                last_entry = None  # a statement-level :86: after the closing balance belongs to no line
        except BankFileError as error:
            raise BankFileError(_("Line %(line)s: %(error)s") % {"line": number, "error": error})
    if not statements:
        raise BankFileError(_("The MT940 file holds no statement (no :20: field)."))
    for statement in statements:
        if not statement.account:
            raise BankFileError(
                _("The MT940 statement %(reference)s has no account (:25:).") % {"reference": statement.statement_id}
            )
        for entry in statement.entries:
            entry.currency = entry.currency or statement.currency
    return statements

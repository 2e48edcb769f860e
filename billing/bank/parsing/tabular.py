"""Bank CSV/XLSX exports read with a column mapping.

The header row is found below any preamble (title, account, period lines); totals rows (合计,
总计, 本页小计 …) and footer notes are skipped; text in UTF-8 (with or without BOM), GB18030 or
UTF-16; amounts with thousands separators, currency signs or brackets; money in and out in two
columns (收入/支出, 贷方/借方), in one signed column, or one column and a direction (借/贷).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from config.imports import ImportFileError, xlsx_check_archive

from .mappings import BUILT_IN_MAPPINGS, ColumnMapping, normalize_header
from .types import BankFileError, ParsedEntry, ParsedStatement, cents

MAX_ROWS = 20_000  # data rows of one export
MAX_COLUMNS = 100
HEADER_SEARCH_ROWS = 30  # the header is looked for in this many rows from the top
TOTALS_WORDS = ("合计", "总计", "小计", "累计", "本页")
TOTALS_WORDS_LATIN = ("total", "subtotal", "sum", "page total")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})|(\d{2})(\d{2}))")
_PREAMBLE_ACCOUNT = re.compile(r"(?:账号|帐号|账户|account(?:\s*(?:number|no\.?))?)\s*[:：]?\s*([0-9][0-9 \-]{5,}[0-9])", re.I)
_PREAMBLE_CURRENCY = re.compile(r"(?:币种|币别|currency)\s*[:：]?\s*([A-Za-z]{3}|人民币|美元|欧元|港币|日元)", re.I)
_PREAMBLE_OPENING = re.compile(r"(?:期初余额|上期余额|opening balance)\s*[:：]?\s*([-+]?[\d,]+(?:\.\d+)?)", re.I)
_PREAMBLE_CLOSING = re.compile(r"(?:期末余额|本期余额|closing balance)\s*[:：]?\s*([-+]?[\d,]+(?:\.\d+)?)", re.I)
CURRENCY_WORDS = {"人民币": "CNY", "美元": "USD", "欧元": "EUR", "港币": "HKD", "日元": "JPY", "RMB": "CNY"}
EXCEL_EPOCH = date(1899, 12, 30)
_AMOUNT = re.compile(r"^[+-]?(\d{1,3}([,，]\d{3})+|\d+)(\.\d{1,2})?$")
# Columns of free text, where a word like 合计 may be part of a name or memo, not a totals row.
_PARTY_FIELDS = ("counterparty_name", "payer_name", "payee_name")


@dataclass
class TableResult:
    statement: ParsedStatement
    mapping: ColumnMapping
    skipped_rows: int  # totals rows and notes below the lines


# --- cells -----------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankFileError(_("The file's text encoding is not recognised; save it as CSV in UTF-8 or GB18030."))


def _read_csv(raw: bytes) -> list[list]:
    text = _decode(raw)
    if "\x00" in text:
        raise BankFileError(_("The file contains binary data; it is not a CSV file."))
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    delimiter = max([",", "\t", ";"], key=head.count)
    try:
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row[:MAX_COLUMNS])
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 50:
                raise BankFileError(_("The file has more than %(n)s lines; split it into smaller files.") % {"n": MAX_ROWS})
        return rows
    except csv.Error as error:
        raise BankFileError(_("The CSV file is malformed: %(error)s") % {"error": error})


_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError, IndexError, ParseError, EOFError)


def _read_xlsx(raw: bytes) -> list[list]:
    try:
        xlsx_check_archive(raw)  # zip bombs, too many parts, DOCTYPEs: refused before parsing
    except ImportFileError as error:
        raise BankFileError(str(error))
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except DefusedXmlException:
        raise BankFileError(_("The workbook declares XML entities, which are refused for safety."))
    except _XLSX_ERRORS:
        raise BankFileError(_("The file is not a valid Excel workbook (.xlsx)."))
    try:
        if not workbook.worksheets:
            raise BankFileError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > MAX_ROWS + HEADER_SEARCH_ROWS + 50:
            raise BankFileError(_("The file has more than %(n)s lines; split it into smaller files.") % {"n": MAX_ROWS})
        width = min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS)
        rows = []
        for row in sheet.iter_rows(max_col=width, values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 50:
                raise BankFileError(_("The file has more than %(n)s lines; split it into smaller files.") % {"n": MAX_ROWS})
        return rows
    except DefusedXmlException:
        raise BankFileError(_("The workbook declares XML entities, which are refused for safety."))
    except _XLSX_ERRORS:
        raise BankFileError(_("The file is not a valid Excel workbook (.xlsx)."))
    finally:
        workbook.close()


def _text(value) -> str:
    """A cell as text: numbers without float noise, Excel's ="..." and leading tabs or apostrophes taken off."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip().lstrip("\t'").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text


def parse_date(value) -> date | None:
    """A cell's date: a date/datetime, an Excel day number, or text like 2026-11-04, 2026/11/4,
    20261104, 2026年11月4日 (a time after it is ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return EXCEL_EPOCH + timedelta(days=int(value))
    match = _DATE.match(_text(value))
    if not match:
        return None
    year, month, day = match[1], match[2] or match[4], match[3] or match[5]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_amount(value) -> Decimal | None:
    """A cell's amount, exact: 1,234.56 / -1,234.56 / +1,234.56 / ¥1,234.56 / (1,234.56) / 1 234.56; empty or "-" is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # A sheet's formula may leave float noise (0.30000000000000004): cents, when that is all it is.
        amount = Decimal(repr(value))
        rounded = amount.quantize(Decimal("0.01"))
        if abs(amount - rounded) > Decimal("0.000001"):
            raise ValueError(repr(value))
        return rounded
    text = _text(value)
    shown = text
    for sign in ("¥", "￥", "CNY", "RMB", "元", "$", " ", "\u00a0"):
        text = text.replace(sign, "")
    if text in ("", "-", "--", "—"):
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    # Thousands separators only between groups of three digits, a decimal point, at most cents:
    # 1.234,00 is refused rather than read as 1.234.
    if not _AMOUNT.match(text):
        raise ValueError(shown)
    try:
        amount = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValueError(shown)
    return -amount if negative else amount


# --- header and rows ---------------------------------------------------------------------------


def _positions(header: list, mapping: ColumnMapping) -> dict[str, list[int]]:
    """Where each of the mapping's fields is in this header row (memo: every column it names)."""
    index_of: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = normalize_header(_text(cell))
        if name:
            index_of.setdefault(name, index)
    found: dict[str, list[int]] = {}
    for field_name, aliases in mapping.columns.items():
        indexes = [index_of[normalize_header(alias)] for alias in aliases if normalize_header(alias) in index_of]
        if indexes:
            found[field_name] = sorted(set(indexes)) if field_name == "memo" else indexes[:1]
    return found


def _usable(found: dict[str, list[int]]) -> bool:
    return "booking_date" in found and any(key in found for key in ("amount", "credit", "debit"))


def find_header(rows: list[list], mapping: ColumnMapping) -> tuple[int, dict[str, list[int]]] | None:
    """The first row (within HEADER_SEARCH_ROWS) that names the mapping's date and amount columns."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _positions(row, mapping)
        if _usable(found):
            return index, found
    return None


def _preamble(rows: list[list]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for row in rows:
        line = " ".join(_text(cell) for cell in row if _text(cell))
        for key, pattern in (
            ("account", _PREAMBLE_ACCOUNT),
            ("currency", _PREAMBLE_CURRENCY),
            ("opening", _PREAMBLE_OPENING),
            ("closing", _PREAMBLE_CLOSING),
        ):
            if key not in facts and (match := pattern.search(line)):
                facts[key] = match[1].strip()
    if "currency" in facts:
        facts["currency"] = CURRENCY_WORDS.get(facts["currency"], facts["currency"].upper())
    return facts


def _is_totals_cell(value) -> bool:
    text = _text(value).casefold()
    if not text or len(text) > 20:
        return False
    if any(word in text for word in TOTALS_WORDS):
        return True
    words = re.split(r"[^a-z]+", text)
    return bool(words) and words[0] in TOTALS_WORDS_LATIN or text.rstrip(":") in TOTALS_WORDS_LATIN


def _is_totals_row(row: list) -> bool:
    return any(_is_totals_cell(cell) for cell in row)


def _cell(row: list, found: dict[str, list[int]], key: str):
    indexes = found.get(key)
    if not indexes:
        return None
    return row[indexes[0]] if indexes[0] < len(row) else None


def _row_entry(row: list, found: dict[str, list[int]], mapping: ColumnMapping, number: int) -> ParsedEntry:
    def amount_of(key: str) -> Decimal | None:
        try:
            return parse_amount(_cell(row, found, key))
        except ValueError as error:
            raise BankFileError(_("Row %(row)s: “%(value)s” is not an amount.") % {"row": number, "value": str(error)[:40]})

    if "credit" in found or "debit" in found:
        credit, debit = amount_of("credit"), amount_of("debit")
        # Money out is written positive in 支出/借方 columns by most banks and negative by a few.
        amount = (credit or Decimal(0)) - abs(debit or Decimal(0))
        if credit is None and debit is None and "amount" in found:
            amount = amount_of("amount") or Decimal(0)
    else:
        amount = amount_of("amount") or Decimal(0)
    if "direction" in found:
        marker = normalize_header(_text(_cell(row, found, "direction")))
        is_credit = any(marker == normalize_header(m) or marker.startswith(normalize_header(m)) for m in mapping.credit_markers)
        amount = abs(amount) if is_credit else -abs(amount)
    booking = parse_date(_cell(row, found, "booking_date"))
    if booking is None:
        raise BankFileError(_("Row %(row)s: the date cannot be read.") % {"row": number})
    name = _text(_cell(row, found, "counterparty_name"))
    account = _text(_cell(row, found, "counterparty_account"))
    if not name and not account:  # payer and payee columns: the other side is the payer on money in
        side = "payer" if amount > 0 else "payee"
        name, account = _text(_cell(row, found, f"{side}_name")), _text(_cell(row, found, f"{side}_account"))
    memo_parts = []
    for index in found.get("memo", []):
        part = _text(row[index]) if index < len(row) else ""
        if part and part not in memo_parts:
            memo_parts.append(part)
    return ParsedEntry(
        booking_date=booking,
        value_date=parse_date(_cell(row, found, "value_date")),
        amount=cents(amount),
        currency=_text(_cell(row, found, "currency")).upper(),
        bank_ref=_text(_cell(row, found, "bank_ref")),
        counterparty_name=name,
        counterparty_account=account,
        memo=" ".join(" ".join(memo_parts).split()),
    )


def _balances(entries: list[ParsedEntry], balances: list[Decimal | None]) -> tuple[Decimal | None, Decimal | None]:
    """Opening and closing from the running balance column (rows oldest first)."""
    if not entries or any(b is None for b in balances):
        return None, None
    return balances[0] - entries[0].amount, balances[-1]


def parse_table(raw: bytes, *, filename: str, mappings: list[ColumnMapping] | None = None) -> TableResult:
    """One statement from a bank's CSV/XLSX export, read with the mapping whose columns the header names best."""
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise BankFileError(_("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV and upload it again."))
    rows = _read_xlsx(raw) if raw.startswith(b"PK\x03\x04") else _read_csv(raw)
    candidates = mappings if mappings is not None else BUILT_IN_MAPPINGS
    best: tuple[int, int, ColumnMapping, dict[str, list[int]]] | None = None
    for mapping in candidates:
        header = find_header(rows, mapping)
        if header is not None and (best is None or len(header[1]) > best[1]):
            best = (header[0], len(header[1]), mapping, header[1])
    if best is None:
        raise BankFileError(
            _(
                "No header row with a date and an amount column was found in the first %(n)s rows. "
                "Choose the bank's column mapping, or define one for this bank."
            )
            % {"n": HEADER_SEARCH_ROWS}
        )
    header_index, _score, mapping, found = best
    facts = _preamble(rows[:header_index])
    entries: list[ParsedEntry] = []
    balances: list[Decimal | None] = []
    skipped = 0
    accounts: set[str] = set()
    for number, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        texts = [_text(cell) for cell in row]
        if not any(texts):
            continue
        date_cell = _cell(row, found, "booking_date")
        if parse_date(date_cell) is None:
            # Totals, page subtotals and notes ("打印时间：…") carry no date; a row that looks like
            # a date but is not one is an error, not something to skip quietly.
            if _is_totals_row(row) or not re.match(r"^\s*\d", _text(date_cell)) or isinstance(date_cell, int | float):
                skipped += 1
                continue
            raise BankFileError(
                _("Row %(row)s: the date “%(value)s” cannot be read.") % {"row": number, "value": _text(date_cell)[:30]}
            )
        free_text = {*found.get("memo", []), *(i for key in _PARTY_FIELDS for i in found.get(key, []))}
        if _is_totals_row([cell for i, cell in enumerate(row) if i not in free_text]):
            skipped += 1
            continue
        entries.append(_row_entry(row, found, mapping, number))
        if len(entries) > MAX_ROWS:
            raise BankFileError(_("The file has more than %(n)s lines; split it into smaller files.") % {"n": MAX_ROWS})
        if "balance" in found:
            try:
                balances.append(parse_amount(_cell(row, found, "balance")))
            except ValueError:
                balances.append(None)
        if "account" in found and (own := _text(_cell(row, found, "account"))):
            accounts.add(own)
    if not entries:
        raise BankFileError(_("The file has a header but no transaction rows."))
    if len(entries) > 1 and entries[0].booking_date > entries[-1].booking_date:
        entries.reverse()  # newest first in the export: the statement reads oldest first
        balances.reverse()
    opening, closing = _balances(entries, balances) if "balance" in found else (None, None)
    try:
        if "opening" in facts:
            opening = parse_amount(facts["opening"])
        if "closing" in facts:
            closing = parse_amount(facts["closing"])
    except ValueError:
        pass
    currencies = {e.currency for e in entries if e.currency}
    currency = facts.get("currency", "") or (next(iter(currencies)) if len(currencies) == 1 else "")
    currency = CURRENCY_WORDS.get(currency, currency)
    for entry in entries:
        entry.currency = CURRENCY_WORDS.get(entry.currency, entry.currency) or currency
    statement = ParsedStatement(
        account=facts.get("account", "") or (next(iter(accounts)) if len(accounts) == 1 else ""),
        currency=currency,
        statement_id=filename,
        opening_balance=opening,
        closing_balance=closing,
        entries=entries,
    )
    return TableResult(statement=statement, mapping=mapping, skipped_rows=skipped)

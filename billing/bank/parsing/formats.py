"""Which format a bank file is in, and reading it with the right parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .camt053 import parse_camt053
from .mappings import ColumnMapping
from .mt940 import looks_like_mt940, parse_mt940
from .tabular import parse_table
from .types import BankFileError, ParsedStatement

FORMAT_AUTO = "auto"
FORMAT_CAMT053 = "camt053"
FORMAT_MT940 = "mt940"
FORMAT_CSV = "csv"
FORMATS = {
    FORMAT_AUTO: gettext_lazy("Recognise automatically"),
    FORMAT_CAMT053: gettext_lazy("camt.053 (ISO 20022 XML)"),
    FORMAT_MT940: gettext_lazy("MT940 (SWIFT)"),
    FORMAT_CSV: gettext_lazy("Bank export (CSV or Excel)"),
}


@dataclass
class ParsedFile:
    format: str
    statements: list[ParsedStatement]
    mapping: ColumnMapping | None = None
    skipped_rows: int = 0
    notes: list[str] = field(default_factory=list)


def detect_format(raw: bytes) -> str:
    """camt.053 for XML, MT940 for SWIFT fields, CSV/XLSX otherwise."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return FORMAT_CAMT053
    if head.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        return FORMAT_CSV
    text = raw[:65536].decode("latin-1")
    if looks_like_mt940(text):
        return FORMAT_MT940
    return FORMAT_CSV


def parse_statement_file(
    raw: bytes, *, filename: str = "", file_format: str = FORMAT_AUTO, mappings: list[ColumnMapping] | None = None
) -> ParsedFile:
    """The statements in a bank file; BankFileError says why a file cannot be read."""
    if not raw.strip(b"\xef\xbb\xbf \t\r\n"):
        raise BankFileError(_("The file is empty."))
    if file_format == FORMAT_AUTO:
        file_format = detect_format(raw)
    if file_format == FORMAT_CAMT053:
        return ParsedFile(format=file_format, statements=parse_camt053(raw))
    if file_format == FORMAT_MT940:
        return ParsedFile(format=file_format, statements=parse_mt940(raw))
    if file_format == FORMAT_CSV:
        if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise BankFileError(_("This is an XML file, not a CSV or Excel export; choose camt.053 or automatic."))
        result = parse_table(raw, filename=filename, mappings=mappings)
        return ParsedFile(
            format=file_format, statements=[result.statement], mapping=result.mapping, skipped_rows=result.skipped_rows
        )
    raise BankFileError(_("Unknown file format “%(format)s”.") % {"format": file_format})

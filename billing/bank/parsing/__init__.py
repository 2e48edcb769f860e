"""Bank statement files read into plain records: camt.053, MT940 and bank CSV/XLSX exports.

Everything here is pure (no database): a parser takes the file's bytes and returns statements,
or raises BankFileError with a message for the user. The import service stores what they return.
"""

from __future__ import annotations

from .formats import FORMAT_CAMT053, FORMAT_CSV, FORMAT_MT940, FORMATS, detect_format, parse_statement_file
from .types import BankFileError, ParsedEntry, ParsedStatement

__all__ = [
    "FORMATS",
    "FORMAT_CAMT053",
    "FORMAT_CSV",
    "FORMAT_MT940",
    "BankFileError",
    "ParsedEntry",
    "ParsedStatement",
    "detect_format",
    "parse_statement_file",
]

"""A one-sheet XLSX workbook written as a stream (Office Open XML, ECMA-376 SpreadsheetML).

Exports of 100k+ rows spend their time turning cells into XML; a general spreadsheet library builds a cell
object and walks an element tree for each one. An export needs much less: one sheet, a bold header row
frozen at the top, numbers, dates and text. This writer builds each row's XML as one string and streams it
into the zip member, so memory stays flat and a row costs a few microseconds.

Every text cell is an inline string (`t="inlineStr"`): a spreadsheet never evaluates it, so text that looks
like a formula needs no guard here. Characters XML 1.0 does not allow (control characters) are dropped.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import IO

MAX_ROWS = 1_048_576  # a worksheet's limit
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EPOCH = date(1899, 12, 30)  # day 0 of the 1900 date system as spreadsheets count it (after 1900-03-01)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Cell formats: 0 plain, 1 bold (the header row), 2 a date shown as yyyy-mm-dd.
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


class TooManyRows(ValueError):
    """More rows than a worksheet holds."""


def sheet_name(title: str) -> str:
    """A valid worksheet name: at most 31 characters, none of [ ] : * ? / \\, not empty."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", title or "").strip().strip("'")[:31]
    return name or "Sheet1"


def column_letters(index: int) -> str:
    """The column's name from its 0-based index: A … Z, AA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    cleaned = _ILLEGAL.sub("", value).translate(_ESCAPES)
    if cleaned[:1].isspace() or cleaned[-1:].isspace():
        return f'<is><t xml:space="preserve">{cleaned}</t></is>'
    return f"<is><t>{cleaned}</t></is>"


def _cell(reference: str, value, text_of) -> str:
    """One cell's XML: numbers and dates as values, everything else as an inline string (`text_of(value)`)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{reference}" t="inlineStr">{_text(text_of(value))}</c>'
    if isinstance(value, int):
        return f'<c r="{reference}"><v>{value}</v></c>'
    if isinstance(value, Decimal | float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite: not a number a sheet holds
            return f'<c r="{reference}" t="inlineStr">{_text(str(value))}</c>'
        return f'<c r="{reference}"><v>{value}</v></c>'
    if isinstance(value, date) and not isinstance(value, datetime):
        return f'<c r="{reference}" s="2"><v>{(value - _EPOCH).days}</v></c>'
    text = text_of(value)
    if not text:
        return ""
    return f'<c r="{reference}" t="inlineStr">{_text(text)}</c>'


def write_xlsx(target: IO[bytes], *, headers: Iterable, rows: Iterable[Iterable], sheet_title: str, text_of=str) -> int:
    """Write a workbook of one sheet to the binary file `target`: the header row in bold (frozen), then
    `rows`. `text_of(value)` turns a value that is not a number or a date into its text. Returns the
    number of data rows; raises TooManyRows beyond a worksheet's limit."""
    header_cells = "".join(f'<c r="{column_letters(i)}1" t="inlineStr" s="1">{_text(str(h))}</c>' for i, h in enumerate(headers))
    letters: list[str] = []
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        workbook = (
            _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{sheet_name(sheet_title).translate(_ESCAPES).replace(chr(34), "&quot;")}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        )
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            buffer = [_SHEET_START, f'<row r="1">{header_cells}</row>']
            size = 0
            for number, row in enumerate(rows, start=2):
                if number > MAX_ROWS:
                    raise TooManyRows(number)
                values = list(row)
                while len(letters) < len(values):
                    letters.append(column_letters(len(letters)))
                cells = "".join(_cell(f"{letters[i]}{number}", value, text_of) for i, value in enumerate(values))
                line = f'<row r="{number}">{cells}</row>'
                buffer.append(line)
                size += len(line)
                count += 1
                if size > 256_000:
                    sheet.write("".join(buffer).encode("utf-8"))
                    buffer, size = [], 0
            buffer.append(_SHEET_END)
            sheet.write("".join(buffer).encode("utf-8"))
    return count

"""Lists and reports as files: CSV streamed row by row, XLSX written with constant memory.

CSV is UTF-8 with a BOM, so Excel shows Chinese text correctly. Text a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) is written so it never is: in CSV with a
leading apostrophe, in XLSX as a typed text cell. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.xlsx import MAX_ROWS, TooManyRows, write_xlsx

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def plain_text(value) -> str:
    """A cell as text: moments in local time, yes/no worded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat(sep=" ")
    return str(value)


def export_text(value) -> str:
    """A CSV cell as text (plain_text), formula-like text guarded with an apostrophe."""
    text = plain_text(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.match(text):
        return "'" + text
    return text


def attachment(filename: str) -> str:
    """A Content-Disposition that keeps a Chinese file name (RFC 6266 filename*) with an ASCII fallback."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def export_filename(stem: str) -> str:
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(headers: list, rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(header) for header in headers])
    for row in rows:
        yield writer.writerow([export_text(value) for value in row])


def export_csv(*, filename: str, headers: list, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download streamed as the rows are read: memory stays flat however many rows there are."""
    response = StreamingHttpResponse(_csv_lines(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment(filename)
    return response


def xlsx_cell(sheet, value):
    """A value for a write-only sheet's row: numbers and dates as they are, text that could run as a formula
    as a typed text cell (never evaluated)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import TYPE_STRING

    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = export_text(value)
    if text.startswith("'") and len(text) > 1 and text[1] in FORMULA_PREFIXES:
        text = text[1:]  # a typed text cell is never evaluated: no guard needed
    if not text.startswith("="):
        return text  # stored as a string as it is; only a leading "=" would make openpyxl write a formula
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = TYPE_STRING
    return cell


def export_xlsx(*, filename: str, headers: list, rows: Iterable[Iterable], sheet_title: str = ""):
    """An Excel workbook written row by row to a temporary file (config.xlsx: flat memory, text cells never
    evaluated), then sent from it. More rows than a worksheet holds answer 400 with a message."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so deletes) it when sent
    try:
        write_xlsx(spool, headers=headers, rows=rows, sheet_title=sheet_title, text_of=plain_text)
    except TooManyRows:
        spool.close()
        message = _("Too many rows for one Excel sheet (at most %(limit)s): narrow the filters or export CSV.") % {
            "limit": f"{MAX_ROWS - 1:,}"
        }
        return JsonResponse({"error": message}, status=400)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def export_response(*, fmt: str, filename: str, headers: list, rows: Iterable[Iterable], sheet_title: str = ""):
    """The list as `fmt` ("csv" or "xlsx"); `filename` without its extension."""
    if fmt == "xlsx":
        return export_xlsx(filename=f"{filename}.xlsx", headers=headers, rows=rows, sheet_title=sheet_title)
    return export_csv(filename=f"{filename}.csv", headers=headers, rows=rows)

"""The invoice list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed, or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from billing.models import Invoice, InvoiceKind, InvoiceStatus

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUES = [
    "number",
    "status",
    "kind",
    "issued_at",
    "due_date",
    "customer__code",
    "buyer_name",
    "buyer_tax_id",
    "fapiao_number",
    "total_net",
    "total_tax",
    "total_gross",
    "amount_credited",
    "amount_paid",
    "currency",
]


def _headers() -> list[str]:
    return [
        _("Number"),
        _("Status"),
        _("Invoice kind"),
        _("Issued"),
        _("Due date"),
        _("Customer code"),
        _("Buyer"),
        _("Tax ID"),
        _("Fapiao number"),
        _("Net amount"),
        _("Tax"),
        _("Total"),
        _("Credited"),
        _("Paid"),
        _("Open amount"),
        _("Currency"),
    ]


def _safe_text(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(invoices: QuerySet[Invoice]) -> Iterator[list]:
    # Worded now, in the request's language, not when the stream is read.
    return _stream(
        invoices, _headers(), {k: str(v) for k, v in InvoiceStatus.choices}, {k: str(v) for k, v in InvoiceKind.choices}
    )


def _stream(invoices: QuerySet[Invoice], headers: list[str], statuses: dict, kinds: dict) -> Iterator[list]:
    yield headers
    for values in invoices.values_list(*VALUES).iterator(chunk_size=CHUNK):
        number, status, kind, issued, due, code, buyer, tax_id, fapiao, net, tax, gross, credited, paid, currency = values
        row = [
            number or "",
            statuses.get(status, status),
            kinds.get(kind, kind),
            timezone.localtime(issued).strftime("%Y-%m-%d") if issued else "",
            due.isoformat() if due else "",
            code,
            buyer,
            tax_id,
            fapiao,
            net,
            tax,
            gross,
            credited,
            paid,
            gross - credited - paid,
            currency,
        ]
        yield [_safe_text(value) for value in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(extension: str) -> str:
    return f"invoices-{timezone.localdate():%Y%m%d}.{extension}"


def invoices_csv_response(invoices: QuerySet[Invoice]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    rows = _rows(invoices)

    def lines():
        yield "\ufeff".encode()
        for row in rows:
            yield writer.writerow(row).encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def invoices_xlsx_response(invoices: QuerySet[Invoice]) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Invoices"))
    for row in _rows(invoices):
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response

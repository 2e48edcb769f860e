"""The order list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed row by row, or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import SalesOrder

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_headers() -> list[str]:
    return [
        _("Number"),
        _("Date"),
        _("Customer code"),
        _("Customer"),
        _("Status"),
        _("Channel"),
        _("Customer PO number"),
        _("Entered by"),
        _("Lines"),
        _("Net amount"),
        _("Tax"),
        _("Total"),
        _("Currency"),
    ]


def export_row(order: SalesOrder) -> list:
    created = timezone.localtime(order.created_at)
    return [
        order.number,
        created.strftime("%Y-%m-%d %H:%M"),
        order.customer.code,
        order.customer.name,
        order.get_status_display(),
        order.get_channel_display(),
        order.customer_po,
        order.created_by.get_full_name() or order.created_by.get_username(),
        order.line_count,
        order.subtotal,
        order.tax_total,
        order.total,
        order.currency,
    ]


def _safe_text(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(orders: QuerySet[SalesOrder]) -> Iterator[list]:
    headers = export_headers()  # translated now, in the request's language, not when the stream is read
    return _with_headers(headers, orders)


def _with_headers(headers: list[str], orders: QuerySet[SalesOrder]) -> Iterator[list]:
    yield headers
    for order in orders.iterator(chunk_size=CHUNK):
        yield [_safe_text(value) for value in export_row(order)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def _filename(extension: str) -> str:
    return f"orders-{timezone.localdate():%Y%m%d}.{extension}"


def orders_csv_response(orders: QuerySet[SalesOrder]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in _csv_lines(_rows(orders))), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def orders_xlsx_response(orders: QuerySet[SalesOrder]) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Orders"))
    for row in _rows(orders):
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response

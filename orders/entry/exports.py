"""The order list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed row by row, or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Channel, OrderStatus, PaymentStatus, SalesOrder

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
        _("Payment status"),
    ]


# The columns read for each order: plain values, no model instances (an export may run to 100k rows).
EXPORT_VALUES = [
    "number",
    "created_at",
    "customer__code",
    "customer__name",
    "status",
    "channel",
    "customer_po",
    "created_by__first_name",
    "created_by__last_name",
    "created_by__username",
    "line_count",
    "subtotal",
    "tax_total",
    "total",
    "currency",
    "payment_status",
]


def _row_writer():
    """A function turning one row of EXPORT_VALUES into the file's columns; labels are translated
    once per export, not once per row."""
    statuses = {key: str(label) for key, label in OrderStatus.choices}
    channels = {key: str(label) for key, label in Channel.choices}
    payment_statuses = {key: str(label) for key, label in PaymentStatus.choices}

    def row(values: tuple) -> list:
        (number, created, code, name, status, channel, po, first, last, username, lines, net, tax, total, currency, paid) = values
        person = f"{first} {last}".strip() or username
        created = timezone.localtime(created).strftime("%Y-%m-%d %H:%M")
        return [
            number,
            created,
            code,
            name,
            statuses.get(status, status),
            channels.get(channel, channel),
            po,
            person,
            lines,
            net,
            tax,
            total,
            currency,
            payment_statuses.get(paid, paid),
        ]

    return row


def _safe_text(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(orders: QuerySet[SalesOrder]) -> Iterator[list]:
    # Translated now, in the request's language, not when the stream is read.
    return _with_headers(export_headers(), _row_writer(), orders)


def _with_headers(headers: list[str], row, orders: QuerySet[SalesOrder]) -> Iterator[list]:
    yield headers
    for values in orders.values_list(*EXPORT_VALUES).iterator(chunk_size=CHUNK):
        yield [_safe_text(value) for value in row(values)]


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

"""Shipment and return lists as files: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed
row by row, or XLSX; the same filters as the page, plain values read in chunks."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from logistics.models import ShipmentState
from logistics.returns.models import ReturnReason, ReturnState

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _safe_text(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value is not None else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def _rows(headers: list[str], columns: list[str], row: Callable[[tuple], list], queryset: QuerySet) -> Iterator[list]:
    yield headers
    for values in queryset.values_list(*columns).iterator(chunk_size=CHUNK):
        yield [_safe_text(value) for value in row(values)]


def _response(*, rows: Iterator[list], export_format: str, name: str, sheet: str):
    filename = f"{name}-{timezone.localdate():%Y%m%d}.{export_format}"
    if export_format == "xlsx":
        workbook = Workbook(write_only=True)
        worksheet = workbook.create_sheet(sheet)
        for row in rows:
            worksheet.append(row)
        buffer = BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    else:
        response = StreamingHttpResponse(
            (line.encode("utf-8") for line in _csv_lines(rows)), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


SHIPMENT_COLUMNS = [
    "number",
    "order__number",
    "order__customer__name",
    "warehouse__code",
    "state",
    "carrier__name",
    "service",
    "line_count",
    "unit_count",
    "created_at",
    "shipped_at",
    "eta",
    "delivered_at",
]


def shipments_export(queryset: QuerySet, export_format: str):
    """The shipments (already filtered) as CSV or XLSX; waybill numbers are on the shipment page."""
    headers = [
        _("Number"),
        _("Order"),
        _("Customer"),
        _("Warehouse"),
        _("State"),
        _("Carrier"),
        _("Service"),
        _("Lines"),
        _("Units"),
        _("Created"),
        _("Shipped"),
        _("Expected delivery"),
        _("Delivered"),
    ]
    states = {key: str(label) for key, label in ShipmentState.choices}

    def row(values: tuple) -> list:
        number, order, customer, warehouse, state, carrier, service, lines, units, created, shipped, eta, delivered = values
        return [
            number,
            order,
            customer,
            warehouse,
            states.get(state, state),
            carrier or "",
            service,
            lines,
            units,
            _when(created),
            _when(shipped),
            eta.isoformat() if eta else "",
            _when(delivered),
        ]

    rows = _rows(headers, SHIPMENT_COLUMNS, row, queryset)
    return _response(rows=rows, export_format=export_format, name="shipments", sheet=_("Shipments"))


RETURN_COLUMNS = [
    "number",
    "order__number",
    "order__customer__name",
    "state",
    "reason",
    "line_count",
    "unit_count",
    "created_at",
    "received_at",
]


def returns_export(queryset: QuerySet, export_format: str):
    """The returns (already filtered) as CSV or XLSX."""
    headers = [
        _("Number"),
        _("Order"),
        _("Customer"),
        _("State"),
        _("Reason"),
        _("Lines"),
        _("Units"),
        _("Opened"),
        _("Received"),
    ]
    states = {key: str(label) for key, label in ReturnState.choices}
    reasons = {key: str(label) for key, label in ReturnReason.choices}

    def row(values: tuple) -> list:
        number, order, customer, state, reason, lines, units, created, received = values
        return [
            number,
            order,
            customer,
            states.get(state, state),
            reasons.get(reason, reason),
            lines,
            units,
            _when(created),
            _when(received),
        ]

    rows = _rows(headers, RETURN_COLUMNS, row, queryset)
    return _response(rows=rows, export_format=export_format, name="returns", sheet=_("Returns"))

"""Shipment and return lists as files: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed
row by row, or XLSX (config.exports); the same filters as the page, plain values read in chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exports import export_response
from logistics.models import ShipmentState
from logistics.returns.models import ReturnReason, ReturnState

CHUNK = 2000
FORMATS = ("csv", "xlsx")


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _rows(headers: list[str], columns: list[str], row: Callable[[tuple], list], queryset: QuerySet) -> Iterator[list]:
    yield headers
    for values in queryset.values_list(*columns).iterator(chunk_size=CHUNK):
        yield row(values)  # config.exports keeps formula-like text from being run


def _response(*, rows: Iterator[list], export_format: str, name: str, sheet: str):
    """The rows (headers first) as a file through config.exports: CSV streamed, XLSX with constant memory."""
    rows = iter(rows)
    headers = next(rows)
    filename = f"{name}-{timezone.localdate():%Y%m%d}"
    return export_response(fmt=export_format, filename=filename, headers=headers, rows=rows, sheet_title=sheet)


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

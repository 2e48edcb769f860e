"""The order list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed row by row, or XLSX
(config.exports)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exports import export_response
from orders.models import Channel, OrderStatus, PaymentStatus, SalesOrder

CHUNK = 2000


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


def _rows(orders: QuerySet[SalesOrder]) -> Iterator[list]:
    row = _row_writer()  # translated now, in the request's language, not when the stream is read
    for values in orders.values_list(*EXPORT_VALUES).iterator(chunk_size=CHUNK):
        yield row(values)


def orders_export_response(orders: QuerySet[SalesOrder], export_format: str):
    """The orders as CSV (streamed) or XLSX (written with constant memory), formula-like text kept as text."""
    return export_response(
        fmt=export_format,
        filename=f"orders-{timezone.localdate():%Y%m%d}",
        headers=export_headers(),
        rows=_rows(orders),
        sheet_title=_("Orders"),
    )

"""The payment list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed row by row, or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from billing.payments.models import BillState, PaymentMethod, PaymentRecordState

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
COLUMNS = [
    "number",
    "date",
    "customer__code",
    "customer__name",
    "method",
    "state",
    "amount",
    "amount_allocated",
    "amount_written_off",
    "amount_refunded",
    "currency",
    "payer_name",
    "payer_account",
    "reference",
    "bill_number",
    "bill_maturity_date",
    "bill_state",
]


def _safe_text(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(payments: QuerySet) -> Iterator[list]:
    methods = {key: str(label) for key, label in PaymentMethod.choices}
    states = {key: str(label) for key, label in PaymentRecordState.choices}
    bill_states = {key: str(label) for key, label in BillState.choices if key}
    yield [
        _("Number"),
        _("Date received"),
        _("Customer code"),
        _("Customer"),
        _("Method"),
        _("State"),
        _("Amount"),
        _("Allocated"),
        _("Written off"),
        _("Refunded"),
        _("Unallocated"),
        _("Currency"),
        _("Payer name"),
        _("Payer account"),
        _("Reference"),
        _("Bill number"),
        _("Maturity date"),
        _("Bill state"),
    ]
    for values in payments.values_list(*COLUMNS).iterator(chunk_size=CHUNK):
        (number, day, code, name, method, state, amount, allocated, written_off, refunded, currency, payer, account, ref,
         bill, maturity, bill_state) = values  # fmt: skip
        rest = amount - allocated - written_off - refunded if state == PaymentRecordState.RECORDED else 0
        row = [number, day.isoformat(), code, name, methods.get(method, method), states.get(state, state), amount, allocated,
               written_off, refunded, rest, currency, payer, account, ref, bill,
               maturity.isoformat() if maturity else "", bill_states.get(bill_state, "")]  # fmt: skip
        yield [_safe_text(value) for value in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def payments_export(payments: QuerySet, export_format: str):
    """The payments (already filtered) as CSV or XLSX."""
    filename = f"payments-{timezone.localdate():%Y%m%d}.{export_format}"
    rows = _rows(payments)
    if export_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Payments"))
        for row in rows:
            sheet.append(row)
        buffer = BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    else:
        response = StreamingHttpResponse(
            (line.encode("utf-8") for line in _csv_lines(rows)), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

"""The payment list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed row by row, or XLSX."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.payments.models import BillState, PaymentMethod, PaymentRecordState
from config.exports import FORMATS, export_response

CHUNK = 2000
__all__ = ["FORMATS", "payments_export"]
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


def _headers() -> list[str]:
    return [
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


def _rows(payments: QuerySet) -> Iterator[list]:
    methods = {key: str(label) for key, label in PaymentMethod.choices}
    states = {key: str(label) for key, label in PaymentRecordState.choices}
    bill_states = {key: str(label) for key, label in BillState.choices if key}
    for values in payments.values_list(*COLUMNS).iterator(chunk_size=CHUNK):
        (number, day, code, name, method, state, amount, allocated, written_off, refunded, currency, payer, account, ref,
         bill, maturity, bill_state) = values  # fmt: skip
        rest = amount - allocated - written_off - refunded if state == PaymentRecordState.RECORDED else 0
        row = [number, day.isoformat(), code, name, methods.get(method, method), states.get(state, state), amount, allocated,
               written_off, refunded, rest, currency, payer, account, ref, bill,
               maturity.isoformat() if maturity else "", bill_states.get(bill_state, "")]  # fmt: skip
        yield row


def payments_export(payments: QuerySet, export_format: str):
    """The payments (already filtered) as CSV (streamed) or XLSX (written with constant memory), through config.exports."""
    return export_response(
        fmt=export_format,
        filename=f"payments-{timezone.localdate():%Y%m%d}",
        headers=_headers(),
        rows=_rows(payments),
        sheet_title=_("Payments"),
    )

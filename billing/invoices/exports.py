"""The invoice list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese names) streamed, or XLSX."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceKind, InvoiceStatus
from config.exports import export_response

CHUNK = 2000
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
        yield row  # config.exports keeps formula-like text from being run


def invoices_export_response(invoices: QuerySet[Invoice], export_format: str):
    """The invoices as CSV (streamed) or XLSX (constant memory), through config.exports."""
    rows = _rows(invoices)
    headers = next(rows)
    return export_response(
        fmt=export_format,
        filename=f"invoices-{timezone.localdate():%Y%m%d}",
        headers=headers,
        rows=rows,
        sheet_title=_("Invoices"),
    )

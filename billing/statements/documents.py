"""A statement as the customer reads it: rows with a running balance, the ageing worded in the
reader's language, and the same as PDF (render_pdf, CJK fonts) and XLSX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from billing.ageing import AgeingBucket
from billing.statements.models import CustomerStatement
from config.documents import render_pdf
from config.exports import xlsx_cell

TEMPLATE = "documents/customer_statement.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ENTRY_LABELS = {
    "invoice": gettext_lazy("Invoice"),
    "credit_note": gettext_lazy("Credit note"),
    "payment": gettext_lazy("Payment"),
    "refund": gettext_lazy("Refund"),
    "write_off": gettext_lazy("Write-off"),
}


@dataclass(frozen=True)
class StatementRow:
    on: date
    kind: str
    number: str
    due_date: date | None
    debit: Decimal
    credit: Decimal
    balance: Decimal

    @property
    def kind_label(self) -> str:
        return str(ENTRY_LABELS.get(self.kind, self.kind))


def statement_rows(statement: CustomerStatement) -> list[StatementRow]:
    """The period's entries as stored, each with the balance after it (starting from the opening balance)."""
    balance = statement.opening_balance
    rows = []
    for entry in statement.entries:
        debit, credit = Decimal(entry["debit"]), Decimal(entry["credit"])
        balance += debit - credit
        rows.append(
            StatementRow(
                on=date.fromisoformat(entry["date"]),
                kind=entry["kind"],
                number=entry["number"],
                due_date=date.fromisoformat(entry["due_date"]) if entry.get("due_date") else None,
                debit=debit,
                credit=credit,
                balance=balance,
            )
        )
    return rows


def statement_ageing(statement: CustomerStatement) -> list[dict]:
    """The stored ageing with each bucket's label in the reader's language."""
    return [
        {"label": AgeingBucket(row["key"], row["first"], row["last"]).label, "amount": Decimal(row["amount"])}
        for row in statement.ageing
    ]


def statement_uninvoiced(statement: CustomerStatement) -> list[dict]:
    return [{**row, "amount": Decimal(row["amount"])} for row in statement.uninvoiced]


def statement_context(statement: CustomerStatement) -> dict:
    return {
        "statement": statement,
        "customer": statement.customer,
        "rows": statement_rows(statement),
        "ageing": statement_ageing(statement),
        "uninvoiced": statement_uninvoiced(statement),
    }


def statement_pdf(*, statement: CustomerStatement, language: str | None = None) -> bytes:
    """The statement's PDF in `language` (the customer's when it is sent)."""
    return render_pdf(TEMPLATE, statement_context(statement), language)


def statement_xlsx(*, statement: CustomerStatement, language: str | None = None) -> bytes:
    """The statement as a workbook: a summary sheet, the entries with a running balance, the ageing
    and what was delivered but not invoiced; amounts as numbers."""
    from openpyxl import Workbook

    with translation.override(language or translation.get_language()):
        workbook = Workbook(write_only=True)
        summary = workbook.create_sheet(_("Statement"))
        customer = statement.customer
        summary.append([_("Customer"), xlsx_cell(summary, customer.name), customer.code])
        summary.append([_("Period"), statement.period_start, statement.period_end])
        summary.append([_("Currency"), statement.currency])
        summary.append([])
        for label, amount in [
            (_("Opening balance"), statement.opening_balance),
            (_("Invoiced"), statement.invoiced),
            (_("Credited"), statement.credited),
            (_("Paid"), statement.paid),
            (_("Refunded"), statement.refunded),
            (_("Written off"), statement.written_off),
            (_("Closing balance"), statement.closing_balance),
            (_("Delivered, not invoiced"), statement.delivered_not_invoiced),
        ]:
            summary.append([label, amount])
        entries = workbook.create_sheet(_("Entries"))
        entries.append(
            [
                _("Date"),
                _("Kind"),
                _("Number"),
                _("Due date"),
                pgettext("ledger column", "Debit"),
                pgettext("ledger column", "Credit"),
                _("Balance"),
            ]
        )
        entries.append([statement.period_start, _("Opening balance"), "", "", None, None, statement.opening_balance])
        for row in statement_rows(statement):
            number = xlsx_cell(entries, row.number)
            entries.append([row.on, row.kind_label, number, row.due_date, row.debit, row.credit, row.balance])
        ageing = workbook.create_sheet(_("Ageing"))
        ageing.append([_("Days past due"), _("Amount")])
        for row in statement_ageing(statement):
            ageing.append([row["label"], row["amount"]])
        uninvoiced = workbook.create_sheet(_("Delivered, not invoiced"))
        uninvoiced.append([_("Order"), _("Line"), _("Description"), _("Quantity"), _("Amount")])
        for row in statement_uninvoiced(statement):
            description = xlsx_cell(uninvoiced, row["description"])
            uninvoiced.append([row["order"], row["position"], description, row["quantity"], row["amount"]])
        buffer = BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()

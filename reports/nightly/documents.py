"""The nightly report's two files, written in one language from the figures kept with the report:
a PDF with charts (documents/nightly_report.html) and an Excel workbook with one sheet per section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _

from config.documents import render_pdf
from reports.dashboard.selectors import overview_charts
from reports.dashboard.sources import ageing_label, risk_note_text
from reports.pages import Chart

from .figures import NightlyFigures

PDF_TEMPLATE = "documents/nightly_report.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class HeadlineRow:
    """One line of the summary: a figure for the day reported on and for the month to date."""

    label: str
    kind: str  # money | int | percent
    day: object
    month: object


def headline_rows(figures: NightlyFigures) -> list[HeadlineRow]:
    """Revenue, orders, margin and on-time delivery, yesterday and month to date (None: not available yet)."""
    day, month = figures.yesterday, figures.month
    return [
        HeadlineRow(_("Revenue (net)"), "money", day and day.revenue, month and month.revenue),
        HeadlineRow(_("Orders"), "int", day and day.orders, month and month.orders),
        HeadlineRow(_("Gross margin"), "money", day and day.margin, month and month.margin),
        HeadlineRow(_("Gross margin rate"), "percent", day and day.margin_rate, month and month.margin_rate),
        HeadlineRow(_("On-time delivery"), "percent", figures.on_time_yesterday, figures.on_time_month),
    ]


def report_charts(figures: NightlyFigures) -> list[Chart]:
    """The dashboard's charts, drawn from the report's figures."""
    return overview_charts(daily=figures.daily, receivables=figures.receivables, risk=figures.risk)


def ageing_rows(figures: NightlyFigures) -> list[tuple[str, Decimal]]:
    """Each ageing bucket's name and open amount."""
    return [(ageing_label(bucket), bucket.amount) for bucket in figures.receivables.buckets]


def report_title(figures: NightlyFigures) -> str:
    return _("Manager report of %(day)s") % {"day": figures.day.isoformat()}


def report_context(figures: NightlyFigures) -> dict:
    """Everything the PDF and the e-mail show, worded in the active language."""
    return {
        "title": report_title(figures),
        "figures": figures,
        "headline": headline_rows(figures),
        "charts": report_charts(figures),
        "ageing": ageing_rows(figures),
        "risk_rows": [(row, [risk_note_text(note) for note in row.notes]) for row in (figures.risk.rows if figures.risk else [])],
    }


def report_pdf(figures: NightlyFigures, *, language: str) -> bytes:
    """The report as a PDF with its charts, in `language`."""
    with translation.override(language):
        context = report_context(figures)
        return render_pdf(PDF_TEMPLATE, context, language=language)


# --- the workbook ---------------------------------------------------------------------------------------------------


def _cell(sheet, value):
    """Numbers and dates as they are; text as a typed text cell, which a spreadsheet never runs as a formula."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import TYPE_STRING

    if value is None or isinstance(value, Decimal | int | float | date):
        return value
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = TYPE_STRING
    return cell


def _sheet(workbook, title: str, headers: list[str], rows: list[list]):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    return sheet


def _percent(value):
    return None if value is None else round(value * 100, 1)


def report_xlsx(figures: NightlyFigures, *, language: str) -> bytes:
    """The report's figures as an Excel workbook in `language`: summary, days, at risk, stock alerts, receivables."""
    from openpyxl import Workbook

    with translation.override(language):
        workbook = Workbook(write_only=True)
        summary = []
        for row in headline_rows(figures):
            if row.kind == "percent":
                summary.append([f"{row.label} (%)", _percent(row.day), _percent(row.month)])
            else:
                summary.append([row.label, row.day, row.month])
        summary.append([_("Overdue receivables"), None, figures.receivables.overdue])
        summary.append([_("Open receivables"), None, figures.receivables.total])
        summary.append([_("Orders at risk"), None, figures.risk.count if figures.risk else None])
        summary.append([_("Stock alerts"), None, figures.stock_alerts.count])
        _sheet(
            workbook,
            _("Summary"),
            [_("Figure"), figures.day.isoformat(), _("Month to date")],
            summary,
        )
        if figures.daily is not None:
            _sheet(
                workbook,
                _("Days"),
                [_("Day"), _("Revenue (net)")],
                [[d.day, d.revenue] for d in figures.daily],
            )
        if figures.risk is not None:
            _sheet(
                workbook,
                _("Orders at risk"),
                [_("Order"), _("Customer"), _("Why")],
                [[r.number, r.customer, "; ".join(risk_note_text(note) for note in r.notes)] for r in figures.risk.rows],
            )
        _sheet(
            workbook,
            _("Stock alerts"),
            [_("SKU"), _("Product"), _("Warehouse"), _("Available"), _("Safety stock")],
            [[a.sku, a.product, a.warehouse, a.available, a.safety_stock] for a in figures.stock_alerts.rows],
        )
        _sheet(
            workbook,
            _("Receivables"),
            [_("Age"), _("Open amount")],
            [*([label, amount] for label, amount in ageing_rows(figures)), [_("Overdue"), figures.receivables.overdue]],
        )
        buffer = BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()

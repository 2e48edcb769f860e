"""One way to serve a report: the page with its filters, figures, charts and table, or the same as CSV, XLSX or PDF.

A report is a `build(cleaned_data, user) -> ReportResult` function over snapshot tables and a form
(a PeriodForm subclass); `report_page` does the rest, so every report pages, exports and prints alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language

from config.documents import render_pdf
from config.exports import export_filename, export_response
from reports.charts import chart_img, chart_svg

# "duration": a length of time in seconds (cycle times), shown in minutes, hours or days and exported in hours.
KINDS = ("text", "int", "money", "percent", "days", "duration", "date")
FORMATS = ("html", "csv", "xlsx", "pdf")
ROWS_PER_PAGE = 100
# A PDF prints the first rows only; the CSV / XLSX export holds them all.
PDF_MAX_ROWS = 500


@dataclass
class Column:
    """A column of a report's table: `key` in each row dict; `kind` says how its values are shown."""

    key: str
    label: str
    kind: str = "text"
    link: Callable[[dict], str | None] | None = None  # the row's link (e.g. to the customer), on the page only

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Figure:
    """A headline number: revenue this month, with its change against the comparison period (0.125 = +12.5 %)."""

    label: str
    value: Any
    kind: str = "int"
    delta: Decimal | float | None = None
    url: str = ""


@dataclass
class Chart:
    kind: str
    title: str
    labels: list
    series: list  # [(name, [values…]), …]
    money: bool = False

    @cached_property
    def svg(self) -> str:
        return chart_svg(kind=self.kind, title=self.title, labels=self.labels, series=self.series, money=self.money)

    @property
    def html(self) -> str:
        """The chart as an image, its title as alternative text (the table beside it has the same figures)."""
        return chart_img(self.svg, str(self.title))


@dataclass
class ReportResult:
    columns: list[Column]
    rows: Iterable[dict]
    totals: dict | None = None
    charts: list[Chart] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    as_of: datetime | None = None  # when the snapshot it reads was last brought up to date
    notes: list[str] = field(default_factory=list)  # what the reader should know: which orders count, which date


def _plain(value, kind: str):
    """A cell for a file: numbers as numbers, dates as dates, percentages as fractions rounded for reading."""
    if value is None:
        return None
    if kind == "percent":
        return round(Decimal(value) * 100, 1)
    if kind == "duration":
        return round(Decimal(str(value)) / 3600, 2)
    if kind == "date" and isinstance(value, datetime):
        return timezone.localtime(value).date()
    return value


def _export(result: ReportResult, *, fmt: str, name: str, title: str):
    columns = result.columns

    def lines():
        for row in result.rows:
            yield [_plain(row.get(column.key), column.kind) for column in columns]
        if result.totals:
            yield [_plain(result.totals.get(column.key), column.kind) for column in columns]

    unit = {"percent": " (%)", "duration": " (h)"}
    headers = [f"{column.label}{unit.get(column.kind, '')}" for column in columns]
    return export_response(fmt=fmt, filename=export_filename(name), headers=headers, rows=lines(), sheet_title=str(title))


def _table(result: ReportResult, rows: Iterable[dict]) -> list[list[dict]]:
    """Rows as cells with their kind and link, ready for the templates."""
    table = []
    for row in rows:
        cells = []
        for column in result.columns:
            link = column.link(row) if column.link else None
            cells.append({"value": row.get(column.key), "kind": column.kind, "link": link})
        table.append(cells)
    return table


def report_page(
    request,
    *,
    name: str,
    title,
    form,
    build: Callable[[dict, Any], ReportResult],
    template: str = "reports/report.html",
    pdf_template: str = "documents/report.html",
    extra_context: dict | None = None,
) -> HttpResponse:
    """The report as a page (paged table), or as `?format=csv|xlsx|pdf`; an invalid filter shows its errors on the page."""
    fmt = request.GET.get("format", "html")
    fmt = fmt if fmt in FORMATS else "html"
    context = {"title": title, "form": form, "report_name": name, **(extra_context or {})}
    if not form.is_valid():
        return render(request, template, {**context, "result": None}, status=200 if fmt == "html" else 400)
    result = build(form.cleaned_data, request.user)
    if fmt in ("csv", "xlsx"):
        return _export(result, fmt=fmt, name=name, title=title)
    rows = list(result.rows)
    context.update(result=result, period=form.cleaned_data, headers=result.columns)
    if fmt == "pdf":
        totals = _table(result, [result.totals])[0] if result.totals else None
        pdf = render_pdf(
            pdf_template,
            {**context, "table": _table(result, rows[:PDF_MAX_ROWS]), "totals": totals, "cut": len(rows) > PDF_MAX_ROWS},
            language=get_language(),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{export_filename(name)}.pdf"'
        return response
    page_obj = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context.update(
        page_obj=page_obj,
        table=_table(result, page_obj.object_list),
        totals=_table(result, [result.totals])[0] if result.totals else None,
    )
    return render(request, template, context)

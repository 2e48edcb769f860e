"""The shared pieces every report stands on: periods, the filter form, charts, exports and the page itself."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports.charts import chart_img, chart_svg, sparkline_svg
from reports.forms import PeriodForm
from reports.periods import bucket_label, bucket_start, buckets, change, comparison_period
from reports.snapshots import snapshot_as_of, snapshot_touch

# --- periods ------------------------------------------------------------------------------------


def test_buckets_cover_the_period_with_empty_ones_included():
    assert buckets(date(2026, 1, 30), date(2026, 3, 2), "month") == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert buckets(date(2026, 11, 25), date(2026, 12, 1), "week") == [date(2026, 11, 23), date(2026, 11, 30)]
    assert buckets(date(2025, 12, 31), date(2026, 1, 1), "year") == [date(2025, 1, 1), date(2026, 1, 1)]
    assert len(buckets(date(2026, 2, 1), date(2026, 2, 28), "day")) == 28


def test_bucket_labels_name_iso_weeks_months_and_years():
    assert bucket_label(bucket_start(date(2026, 1, 1), "week"), "week") == "2026-W01"
    assert bucket_label(bucket_start(date(2027, 1, 1), "week"), "week") == "2026-W53"
    assert bucket_label(date(2026, 11, 1), "month") == "2026-11"
    assert bucket_label(date(2026, 1, 1), "year") == "2026"


def test_comparison_is_the_days_just_before_or_the_same_dates_a_year_earlier():
    assert comparison_period(date(2026, 11, 1), date(2026, 11, 30), "previous") == (date(2026, 10, 2), date(2026, 10, 31))
    assert comparison_period(date(2024, 2, 29), date(2024, 3, 31), "last_year") == (date(2023, 2, 28), date(2023, 3, 31))
    assert comparison_period(date(2026, 11, 1), date(2026, 11, 30), "none") is None
    assert change(Decimal("112.5"), Decimal("100")) == Decimal("0.125")
    assert change(Decimal("5"), Decimal("0")) is None


# --- the filter form ----------------------------------------------------------------------------


def test_an_empty_filter_means_month_to_date_by_day():
    form = PeriodForm({})
    assert form.is_valid(), form.errors
    today = timezone.localdate()
    assert form.period_bounds() == (today.replace(day=1), today)
    assert form.cleaned_data["grain"] == "day"
    assert form.comparison_bounds() is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({"start": "2010-01-01", "end": "2026-11-01"}, "start"),
        ({"start": "2024-01-01", "end": "2026-11-01", "grain": "day"}, "grain"),
        ({"start": "not a date"}, "start"),
        ({"grain": "fortnight"}, "grain"),
        ({"compare": "tomorrow"}, "compare"),
    ],
)
def test_a_filter_that_makes_no_sense_is_refused_on_its_field(data, field):
    form = PeriodForm(data)
    assert not form.is_valid()
    assert field in form.errors


# --- charts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["line", "bar", "stacked_bar", "hbar", "pie"])
def test_every_chart_kind_is_static_svg_with_its_text_as_text(kind):
    svg = chart_svg(
        kind=kind, title="销售额 <b>", labels=["一月", "二月"], series=[("净额", [Decimal("10.50"), None])], money=True
    )
    assert svg.startswith("<svg") and "<script" not in svg
    assert "销售额 &lt;b&gt;" in svg and "一月" in svg  # escaped, and text rather than outlines
    assert "Noto Sans CJK SC" in svg
    assert "http://" not in svg.replace("http://www.w3.org", "").replace("http://pygal.org", "").replace(
        "http://github.com/Kozea/pygal", ""
    )


def test_a_chart_is_an_image_with_its_title_as_alternative_text():
    html = chart_img(chart_svg(kind="line", title="T", labels=["a"], series=[("s", [1])]), 'Net "revenue"')
    assert html.startswith('<img class="chart" src="data:image/svg+xml;base64,')
    assert 'alt="Net &quot;revenue&quot;"' in html


def test_unknown_chart_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown chart kind"):
        chart_svg(kind="radar", title="", labels=[], series=[])


def test_sparkline_has_no_labels():
    svg = sparkline_svg([1, 3, 2])
    assert svg.startswith("<svg") and "<script" not in svg


# --- snapshots ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_data_as_of_is_the_stalest_of_the_snapshots_read():
    assert snapshot_as_of("a") is None
    earlier = timezone.now() - timezone.timedelta(hours=2)
    snapshot_touch("a", at=earlier)
    snapshot_touch("b", rebuilt=True)
    assert snapshot_as_of("a", "b") == earlier
    assert snapshot_as_of("a", "never") is None


# --- the page -----------------------------------------------------------------------------------

pytestmark_urls = pytest.mark.urls("reports.tests.urls")


@pytestmark_urls
@pytest.mark.django_db
def test_a_report_page_shows_figures_chart_table_and_as_of(client_as):
    snapshot_touch("test")
    client = client_as("manager")
    response = client.get("/sample/", {"start": "2026-11-01", "end": "2026-11-03"})
    body = response.content.decode()
    assert response.status_code == 200
    assert '<img class="chart" src="data:image/svg+xml;base64,' in body and 'alt="净额 by period"' in body
    assert "2026-11-03" in body and "7,407.00" in body  # the last day's row and the total (1234.5 × (1+2+3))
    assert "Data as of" in body and "+12.5 %" in body
    assert "format=csv" in body and "format=xlsx" in body and "format=pdf" in body


@pytestmark_urls
@pytest.mark.django_db
def test_a_report_page_in_chinese(client_as):
    client = client_as("manager")
    client.cookies["django_language"] = "zh-hans"
    body = client.get("/sample/", {"start": "2026-11-01", "end": "2026-11-02"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "导出" in body and 'lang="zh-hans"' in body


@pytestmark_urls
@pytest.mark.django_db
def test_a_bad_filter_shows_its_error_and_no_figures(client_as):
    client = client_as("manager")
    response = client.get("/sample/", {"start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "The end of the period is before its start." in body and "<table" not in body
    assert client.get("/sample/", {"start": "2026-11-30", "end": "2026-11-01", "format": "csv"}).status_code == 400


@pytestmark_urls
@pytest.mark.django_db
def test_csv_export_has_a_bom_all_rows_totals_and_no_formula(client_as):
    response = client_as("manager").get("/sample/", {"start": "2026-11-01", "end": "2026-11-03", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Period", "Name", "Net"]
    assert rows[1][1] == '\'=HYPERLINK("x")'
    assert rows[2][1] == "华东 客户"
    assert rows[-1] == ["Total", "", "7407.0"]


@pytestmark_urls
@pytest.mark.django_db
def test_xlsx_export_keeps_numbers_as_numbers_and_text_as_text(client_as):
    response = client_as("manager").get("/sample/", {"start": "2026-11-01", "end": "2026-11-03", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Period", "Name", "Net"]
    assert values[1][1] == '=HYPERLINK("x")' and sheet.cell(row=2, column=2).data_type == "s"
    assert values[2][2] == pytest.approx(2469.0)
    assert values[-1][0] == "Total"


@pytestmark_urls
@pytest.mark.django_db
def test_pdf_carries_the_chinese_labels_as_text(client_as):
    from pypdf import PdfReader

    response = client_as("manager").get("/sample/", {"start": "2026-11-01", "end": "2026-11-02", "format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Sample report" in text and "华东 客户" in text
    assert "净额" in text  # from the chart: its labels are text in the PDF too


@pytestmark_urls
@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("warehouse", 403), ("finance", 403), ("sales", 200), ("manager", 200)])
def test_the_page_checks_the_permission(client_as, role, status):
    assert client_as(role).get("/sample/").status_code == status


@pytestmark_urls
@pytest.mark.django_db
def test_sales_see_their_own_figures_managers_everyones(client_as):
    sales = client_as("sales")
    assert f'<div class="value">{sales.user.pk}</div>' in sales.get("/sample/").content.decode()
    manager = client_as("manager")
    assert '<div class="value">all</div>' in manager.get("/sample/").content.decode()

"""The nightly manager report: made once a day, e-mailed once to each manager in their language with its PDF
and workbook, kept in the archive; a failed run retries and, when it gives up, tells the managers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.locmem import EmailBackend
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from billing.tests.receivables_factories import issued_invoice
from config.models import Notification, UserPreference
from config.settings import daily_at
from customers.tests.factories import CustomerFactory
from inventory.models import LowStockAlert
from inventory.tests.factories import ProductFactory, WarehouseFactory
from reports.cycles.refresh import cycles_rebuild
from reports.cycles.tests.factories import timeline_order
from reports.nightly import services
from reports.nightly.documents import report_pdf, report_xlsx
from reports.nightly.figures import figures_dump, figures_load, figures_read
from reports.nightly.models import NightlyReport, NightlyReportDelivery, NightlyReportFile, NightlyReportState
from reports.nightly.tasks import retry_delay, send_nightly_report
from reports.receivables.snapshot import receivables_rebuild
from tests.queries import queries_for

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 29)
PDF, XLSX = "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def figures_of_the_day():
    """An overdue invoice of a Chinese customer and a stock alert of a Chinese product."""
    customer = CustomerFactory(name="华东五金贸易有限公司")
    issued_invoice(customer=customer, gross="11300.00", issued_on=DAY - timedelta(days=60), due_date=DAY - timedelta(days=20))
    issued_invoice(customer=customer, gross="500.00", issued_on=DAY, due_date=DAY + timedelta(days=30))
    receivables_rebuild()
    LowStockAlert.objects.create(
        product=ProductFactory(name="十字螺丝刀", sku="SD-001"),
        warehouse=WarehouseFactory(code="SH1"),
        available=2,
        safety_stock=10,
    )


@pytest.fixture
def managers(make_user):
    """An English and a Chinese manager; a manager without e-mail, an inactive one and a salesperson get nothing."""
    english = make_user("manager", email="en@example.com")
    chinese = make_user("manager", email="zh@example.com")
    UserPreference.objects.create(user=chinese, language="zh-hans")
    make_user("manager", email="")
    make_user("manager", email="gone@example.com", is_active=False)
    make_user("sales", email="sales@example.com")
    return english, chinese


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def attachments(message) -> dict[str, tuple[str, bytes]]:
    return {mimetype: (name, content) for name, content, mimetype in message.attachments}


def test_each_manager_gets_the_pdf_and_workbook_in_their_language(managers, figures_of_the_day):
    english, chinese = managers
    send_nightly_report.delay(day=DAY.isoformat())

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == ["en@example.com", "zh@example.com"]
    en, zh = by_recipient["en@example.com"], by_recipient["zh@example.com"]
    assert en.subject == "Manager report of 2026-11-29"
    assert zh.subject == "2026-11-29 经理报告"
    assert "Overdue receivables: 11,300.00" in en.body and "逾期应收账款: 11,300.00" in zh.body

    for message, language, words in ((en, "en", "Stock alerts"), (zh, "zh-hans", "库存预警")):
        files = attachments(message)
        assert set(files) == {PDF, XLSX}
        pdf_name, pdf = files[PDF]
        assert pdf_name == f"manager-report-20261129-{language}.pdf" and pdf.startswith(b"%PDF")
        text = pdf_text(pdf)
        assert words in text and "十字螺丝刀" in text
        xlsx_name, xlsx = files[XLSX]
        assert xlsx_name == f"manager-report-20261129-{language}.xlsx"
        assert "十字螺丝刀" in [cell for row in load_workbook(BytesIO(xlsx)).worksheets[-2].values for cell in row]

    report = NightlyReport.objects.get(day=DAY)
    assert report.state == NightlyReportState.SENT
    assert dict(report.deliveries.values_list("email", "language")) == {"en@example.com": "en", "zh@example.com": "zh-hans"}


def test_the_pdf_prints_chinese_labels_and_names(figures_of_the_day):
    figures = figures_read(day=DAY)
    text = pdf_text(report_pdf(figures, language="zh-hans"))
    assert "2026-11-29 经理报告" in text  # the title, worded in Chinese
    assert "应收账款" in text and "库存预警" in text  # section headings
    assert "十字螺丝刀" in text  # a product's name, data in Chinese
    assert "应收账款账龄分布" in text and "超过 90 天" in text  # a chart's title and axis labels, kept as text


def test_running_twice_makes_one_report_and_sends_nobody_a_second_mail(managers, figures_of_the_day):
    send_nightly_report.delay(day=DAY.isoformat())
    first_files = set(NightlyReportFile.objects.values_list("pk", "sha256"))
    send_nightly_report.delay(day=DAY.isoformat())

    assert len(mail.outbox) == 2
    assert NightlyReport.objects.count() == 1 and NightlyReportDelivery.objects.count() == 2
    assert set(NightlyReportFile.objects.values_list("pk", "sha256")) == first_files
    assert len(first_files) == 4  # PDF and workbook, in English and in Chinese


def test_a_second_report_row_for_the_same_day_is_refused():
    NightlyReport.objects.create(day=DAY)
    with pytest.raises(IntegrityError):
        NightlyReport.objects.create(day=DAY)


def test_a_manager_added_after_the_run_gets_it_on_the_next_run_and_only_they_do(managers, make_user):
    send_nightly_report.delay(day=DAY.isoformat())
    make_user("manager", email="new@example.com")
    mail.outbox.clear()
    send_nightly_report.delay(day=DAY.isoformat())
    assert [message.to for message in mail.outbox] == [["new@example.com"]]


def test_figures_are_read_once_and_kept_for_every_later_run(managers, figures_of_the_day):
    services.nightly_report_make(day=DAY)
    kept = NightlyReport.objects.get(day=DAY).figures
    issued_invoice(
        customer=CustomerFactory(), gross="999.00", issued_on=DAY - timedelta(days=90), due_date=DAY - timedelta(days=60)
    )
    send_nightly_report.delay(day=DAY.isoformat())
    report = NightlyReport.objects.get(day=DAY)
    assert report.figures == kept and kept["receivables"]["overdue"] == "11300.00"


def test_figures_survive_their_json_unchanged(figures_of_the_day):
    figures = figures_read(day=DAY)
    assert figures_load(figures_dump(figures)) == figures
    assert figures.receivables.overdue == Decimal("11300.00") and figures.stock_alerts.count == 1


def test_the_workbook_holds_numbers_as_numbers_and_formula_like_names_as_text():
    LowStockAlert.objects.create(
        product=ProductFactory(name="=HYPERLINK(1)"), warehouse=WarehouseFactory(), available=1, safety_stock=5
    )
    workbook = load_workbook(BytesIO(report_xlsx(figures_read(day=DAY), language="en")))
    alerts = list(workbook["Stock alerts"].values)
    assert alerts[1][1] == "=HYPERLINK(1)" and workbook["Stock alerts"].cell(2, 2).data_type == "s"
    assert alerts[1][3] == 1 and alerts[1][4] == 5


# --- when things fail -------------------------------------------------------------------------------------------


@pytest.fixture
def retrying():
    """Eager tasks that retry in place, as a worker would (eager failures propagate everywhere else in the tests)."""
    from config.celery import app

    app.conf.task_eager_propagates = False

    def run(day: date = DAY):
        return send_nightly_report.apply(kwargs={"day": day.isoformat()})

    return run


def test_a_failing_run_retries_then_tells_every_manager_once(managers, settings, monkeypatch, retrying):
    settings.NIGHTLY_REPORT_RETRIES = 2
    calls = []

    def broken(figures, *, language):
        calls.append(language)
        raise OSError("disk full")

    monkeypatch.setitem(services.WRITERS, "pdf", broken)
    result = retrying()

    assert result.failed() and isinstance(result.result, OSError)
    assert len(calls) == 3  # the first attempt and two retries
    report = NightlyReport.objects.get(day=DAY)
    assert report.state == NightlyReportState.FAILED and report.failed_attempts == 3
    assert report.error == "OSError: disk full" and mail.outbox == []
    english, chinese = managers
    told = Notification.objects.filter(text__startswith="The nightly report of %(day)s")
    assert sorted(told.values_list("recipient__email", flat=True)) == ["", "en@example.com", "zh@example.com"]
    assert told.first().params == {"day": "2026-11-29", "attempts": "3"}

    assert retrying().failed()  # beat, or a manager, starts it again and it fails again: nobody is told twice
    assert told.count() == 3


def test_a_run_that_fails_once_succeeds_on_its_retry_without_telling_anyone(managers, monkeypatch, retrying):
    real = services.WRITERS["xlsx"]
    failures = iter([True])

    def flaky(figures, *, language):
        if next(failures, False):
            raise ConnectionError("storage went away")
        return real(figures, language=language)

    monkeypatch.setitem(services.WRITERS, "xlsx", flaky)
    assert retrying().successful()

    report = NightlyReport.objects.get(day=DAY)
    assert report.state == NightlyReportState.SENT and report.failed_attempts == 1 and report.error == ""
    assert len(mail.outbox) == 2 and not Notification.objects.exists()


class RefusingBackend(EmailBackend):
    """A mail server that refuses the addresses in `refused`, each the first time only."""

    refused: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & self.refused:
                RefusingBackend.refused.difference_update(message.to)
                raise ConnectionRefusedError("mail server said no")
        return super().send_messages(messages)


def test_a_manager_whose_mail_fails_gets_it_on_the_retry_and_the_others_only_once(managers, settings, retrying):
    settings.MAILERS = {"default": {"BACKEND": "reports.nightly.tests.test_nightly_report.RefusingBackend"}}
    RefusingBackend.refused = {"zh@example.com"}
    assert retrying().successful()

    assert sorted(message.to[0] for message in mail.outbox) == ["en@example.com", "zh@example.com"]
    report = NightlyReport.objects.get(day=DAY)
    assert report.state == NightlyReportState.SENT and report.failed_attempts == 1
    assert "zh@example.com" in NightlyReport.objects.get(day=DAY).deliveries.values_list("email", flat=True)


def test_retries_wait_longer_each_time_up_to_the_limit(settings):
    settings.NIGHTLY_REPORT_RETRY_SECONDS = 60
    settings.NIGHTLY_REPORT_RETRY_MAX_SECONDS = 600
    assert [retry_delay(n) for n in range(6)] == [60, 120, 240, 480, 600, 600]


# --- the schedule ---------------------------------------------------------------------------------------------------


def test_the_report_runs_daily_at_the_configured_local_time():
    schedule = daily_at("07:45", "NIGHTLY_REPORT_TIME")
    assert schedule.hour == {7} and schedule.minute == {45}
    with pytest.raises(ImproperlyConfigured, match="HH:MM"):
        daily_at("25:00", "NIGHTLY_REPORT_TIME")
    with pytest.raises(ImproperlyConfigured):
        daily_at("soon", "NIGHTLY_REPORT_TIME")


def test_beat_makes_yesterdays_report(managers, settings, monkeypatch):
    # Half past midnight in Shanghai is still the day before in UTC: the day is the local one's eve.
    assert services.nightly_report_day(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)) == DAY
    monkeypatch.setattr("reports.nightly.tasks.nightly_report_day", lambda: DAY)
    assert settings.CELERY_BEAT_SCHEDULE["nightly-report"]["task"] == send_nightly_report.name
    send_nightly_report.delay()
    assert NightlyReport.objects.get().day == DAY


# --- the archive ----------------------------------------------------------------------------------------------------


def test_managers_page_through_the_archive_and_download_each_file(client_as, managers):
    send_nightly_report.delay(day=DAY.isoformat())
    client = client_as("manager")
    body = client.get(reverse("reports:nightly_list")).content.decode()
    assert "2026-11-29" in body and reverse("reports:nightly_download", args=["2026-11-29", "pdf"]) in body

    pdf = client.get(reverse("reports:nightly_download", args=["2026-11-29", "pdf"]) + "?language=zh-hans")
    assert pdf.status_code == 200 and pdf["Content-Type"] == PDF
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    xlsx = client.get(reverse("reports:nightly_download", args=["2026-11-29", "xlsx"]))
    assert xlsx.status_code == 200 and "manager-report-20261129-en.xlsx" in xlsx["Content-Disposition"]


@pytest.mark.parametrize("role", ["sales", "warehouse", "finance", "reviewer"])
def test_only_managers_open_the_archive_or_its_files(client_as, role):
    NightlyReport.objects.create(day=DAY)
    client = client_as(role)
    assert client.get(reverse("reports:nightly_list")).status_code == 403
    assert client.get(reverse("reports:nightly_download", args=["2026-11-29", "pdf"])).status_code == 403
    assert client.post(reverse("reports:nightly_run_again", args=["2026-11-29"])).status_code == 403


def test_an_unknown_day_or_kind_is_not_found(client_as):
    client = client_as("manager")
    assert client.get(reverse("reports:nightly_download", args=["2026-11-29", "pdf"])).status_code == 404
    assert client.get(reverse("reports:nightly_download", args=["not-a-day", "pdf"])).status_code == 404
    NightlyReport.objects.create(day=DAY)
    assert client.get(reverse("reports:nightly_download", args=["2026-11-29", "exe"])).status_code == 404


def test_the_archive_page_reads_as_many_queries_for_one_day_as_for_many(client_as, managers):
    client = client_as("manager")
    send_nightly_report.delay(day=DAY.isoformat())
    one = queries_for(lambda: client.get(reverse("reports:nightly_list")))
    for n in range(1, 5):
        send_nightly_report.delay(day=(DAY - timedelta(days=n)).isoformat())
    assert queries_for(lambda: client.get(reverse("reports:nightly_list"))) == one


def test_a_manager_starts_a_failed_day_again_and_it_is_sent(client_as, managers, django_capture_on_commit_callbacks):
    NightlyReport.objects.create(day=DAY, failed_at=timezone.now(), failed_attempts=7)
    client = client_as("manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:nightly_run_again", args=["2026-11-29"]))
    assert response.status_code == 302
    assert NightlyReport.objects.get(day=DAY).state == NightlyReportState.SENT and len(mail.outbox) == 2


def test_a_day_started_again_that_fails_again_tells_the_managers_again(managers, settings, monkeypatch, retrying, client_as):
    settings.NIGHTLY_REPORT_RETRIES = 0

    def broken(figures, *, language):
        raise OSError("disk full")

    monkeypatch.setitem(services.WRITERS, "pdf", broken)
    assert retrying().failed()
    assert services.nightly_report_restart(day=DAY).failed_at is None
    assert retrying().failed()
    assert Notification.objects.filter(recipient=managers[0]).count() == 2


@pytest.fixture
def every_area(monkeypatch):
    """Sales, margin, on-time delivery and orders at risk as their areas' selectors give them."""
    from reports.dashboard import sources

    def sales_totals(*, start, end, salesperson_id=None):
        if start == end:
            return sources.SalesTotals(Decimal("12345.60"), 12, Decimal("2345.10"), Decimal("0.19"))
        return sources.SalesTotals(Decimal("345678.90"), 321, Decimal("56789.00"), Decimal("0.164"))

    monkeypatch.setattr(sources, "sales_totals", sales_totals)
    monkeypatch.setattr(
        sources,
        "sales_by_day",
        lambda *, start, end, salesperson_id=None: [
            sources.DayTotals(start + timedelta(days=n), Decimal(1000 * n)) for n in range((end - start).days + 1)
        ],
    )
    monkeypatch.setattr(sources, "on_time_rate", lambda *, start, end, salesperson_id=None: Decimal("0.913"))
    late = sources.RiskNote("late", {"date": DAY - timedelta(days=3), "days": 3})
    row = sources.RiskRow(41, "SO-2026-000041", "华东五金贸易有限公司", [late])
    monkeypatch.setattr(
        sources,
        "orders_at_risk",
        lambda *, salesperson_id=None, limit=20: sources.RiskFigures(7, {"late": 4, "credit_hold": 3}, [row][:limit]),
    )


def test_every_area_figure_reaches_the_pdf_workbook_and_mail(managers, every_area):
    send_nightly_report.delay(day=DAY.isoformat())
    zh = next(message for message in mail.outbox if message.to == ["zh@example.com"])
    assert "收入（不含税）: 12,345.60 (11-29) / 345,678.90 (本月至今)" in zh.body and "暂无数据" not in zh.body
    text = pdf_text(attachments(zh)[PDF][1])
    assert "345,678.90" in text and "91.3 %" in text and "SO-2026-000041" in text
    assert "本月至今每日收入" in text and "风险订单（按原因）" in text  # the charts' titles
    workbook = load_workbook(BytesIO(attachments(zh)[XLSX][1]))
    assert [row[:3] for row in workbook["概要"].values][1] == ("收入（不含税）", 12345.6, 345678.9)
    assert len(list(workbook["每日"].values)) == 1 + 29  # a header and every day of the month to date
    english = next(message for message in mail.outbox if message.to == ["en@example.com"])
    assert "3 days ago, and not delivered" in pdf_text(attachments(english)[PDF][1])  # the reason, with its figures


def test_an_order_late_against_its_requested_date_is_listed_with_why(managers, make_user):
    seller = make_user("sales")
    now = timezone.now()
    order = timeline_order(
        by=seller,
        steps=[("submitted", now - timedelta(hours=5)), ("allocated", now - timedelta(hours=4))],
        requested_date=timezone.localdate() - timedelta(days=2),
    )
    cycles_rebuild()
    send_nightly_report.delay(day=DAY.isoformat())
    report = NightlyReport.objects.get(day=DAY)
    assert report.figures["risk"]["count"] == 1 and report.figures["risk"]["by_reason"]["late"] == 1
    english = next(message for message in mail.outbox if message.to == ["en@example.com"])
    text = pdf_text(attachments(english)[PDF][1])
    assert order.number in text and "2 days ago, and not delivered" in text and "Late against the requested date" in text

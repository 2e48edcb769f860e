"""Making and sending the nightly manager report, safe to run twice for the same day.

A day has one report row (UNIQUE day). Its figures are read the first time and kept; its files (PDF and
workbook per language) are written once; each manager is e-mailed once (UNIQUE report, recipient), each
send committed on its own under the report's row lock, so a second run, or two at once, neither
duplicates the row nor sends anyone the report again. A run that fails leaves what it finished and the
next attempt goes on from there; the last failed attempt tells the managers in the app.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from config.notifications import notification_send
from config.preferences import user_languages
from config.roles import MANAGER

from .documents import XLSX_TYPE, report_context, report_pdf, report_xlsx
from .figures import figures_dump, figures_load, figures_read
from .models import FileKind, NightlyReport, NightlyReportDelivery, NightlyReportFile

WRITERS = {FileKind.PDF: report_pdf, FileKind.XLSX: report_xlsx}
CONTENT_TYPES = {FileKind.PDF: "application/pdf", FileKind.XLSX: XLSX_TYPE}


class NightlyReportNotSent(Exception):
    """Some managers could not be e-mailed the report; the next attempt sends it to them (and only them)."""


def nightly_report_day(now=None) -> date:
    """The day a report made now is about: yesterday, in the site's time zone."""
    return timezone.localdate(now) - timedelta(days=1)


def nightly_report_recipients():
    """Every active manager with an e-mail address, in a stable order."""
    users = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).exclude(email="")
    return users.distinct().order_by("pk")


def file_name(report: NightlyReport, *, language: str, kind: str) -> str:
    return f"manager-report-{report.day:%Y%m%d}-{language}.{kind}"


def _report_row(day: date) -> NightlyReport:
    """The day's report row, made when it does not exist yet (two runs at once: the unique day keeps one)."""
    report, _created = NightlyReport.objects.get_or_create(day=day)
    return report


def nightly_report_make(*, day: date) -> NightlyReport:
    """Read the day's figures once and write the PDF and workbook in every site language; what exists stays."""
    _report_row(day)
    with transaction.atomic():
        report = NightlyReport.objects.select_for_update().get(day=day)
        if not report.figures:
            report.figures = figures_dump(figures_read(day=day))
            report.save(update_fields=["figures"])
        figures = figures_load(report.figures)
        made = set(report.files.values_list("language", "kind"))
        for language, _name in settings.LANGUAGES:
            for kind in FileKind:
                if (language, kind.value) in made:
                    continue
                content = WRITERS[kind](figures, language=language)
                stored = NightlyReportFile(
                    report=report, language=language, kind=kind, sha256=hashlib.sha256(content).hexdigest(), size=len(content)
                )
                stored.file.save(file_name(report, language=language, kind=kind), ContentFile(content), save=False)
                stored.save()
        if report.made_at is None:
            report.made_at = timezone.now()
            report.save(update_fields=["made_at"])
    return report


def report_file(report: NightlyReport, *, language: str, kind: str) -> NightlyReportFile | None:
    """The report's file of this kind in `language`, else in the site's language, else in any."""
    files = {f.language: f for f in report.files.filter(kind=kind)}
    return files.get(language) or files.get(settings.LANGUAGE_CODE) or next(iter(files.values()), None)


def _message(report: NightlyReport, *, email: str, language: str) -> EmailMultiAlternatives:
    figures = figures_load(report.figures)
    with translation.override(language):
        context = {
            **report_context(figures),
            "archive_url": f"{settings.SITE_URL}{reverse('reports:nightly_list')}",
            "dashboard_url": f"{settings.SITE_URL}{reverse('reports:dashboard')}",
        }
        subject = render_to_string("reports/email/nightly_report_subject.txt", context).strip()
        body = render_to_string("reports/email/nightly_report.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email])
    for kind in FileKind:
        stored = report_file(report, language=language, kind=kind)
        with stored.file.open("rb") as content:
            message.attach(file_name(report, language=stored.language, kind=kind), content.read(), CONTENT_TYPES[kind])
    return message


def nightly_report_deliver(*, report: NightlyReport) -> int:
    """E-mail the report to every manager who has not had it yet, each in their language; returns how many now.

    Each send is committed on its own under the report's row lock: a second run finds it recorded and
    skips that manager. Managers whose mail fails are left for the next attempt (NightlyReportNotSent).
    """
    recipients = list(nightly_report_recipients())
    languages = user_languages(user_ids=[user.pk for user in recipients])
    sent, failed = 0, []
    for user in recipients:
        try:
            with transaction.atomic():
                locked = NightlyReport.objects.select_for_update().get(pk=report.pk)
                if NightlyReportDelivery.objects.filter(report=locked, recipient=user).exists():
                    continue
                message = _message(locked, email=user.email, language=languages[user.pk])
                mailers.default.send_messages([message])
                NightlyReportDelivery.objects.create(report=locked, recipient=user, email=user.email, language=languages[user.pk])
                sent += 1
        except Exception as exc:  # one manager's mail must not keep the others from theirs
            failed.append((user.email, exc))
    if failed:
        emails = ", ".join(email for email, _exc in failed)
        raise NightlyReportNotSent(f"not sent to {emails}: {failed[0][1]!r}") from failed[0][1]
    NightlyReport.objects.filter(pk=report.pk, sent_at__isnull=True).update(sent_at=timezone.now(), error="")
    return sent


def nightly_report_run(*, day: date) -> NightlyReport:
    """Make the day's report (once) and send it to every manager who has not had it (once each)."""
    report = nightly_report_make(day=day)
    nightly_report_deliver(report=report)
    report.refresh_from_db()
    return report


@transaction.atomic
def nightly_report_attempt_failed(*, day: date, error: BaseException, final: bool) -> NightlyReport:
    """Record a failed attempt; after the last one the report has failed and every manager is told, once."""
    _report_row(day)
    report = NightlyReport.objects.select_for_update().get(day=day)
    report.failed_attempts += 1
    report.error = f"{type(error).__name__}: {error}"[: NightlyReport._meta.get_field("error").max_length]
    fields = ["failed_attempts", "error"]
    if final and report.failed_at is None:
        managers = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).distinct()
        notification_send(
            recipient_ids=managers.values_list("pk", flat=True),
            text=gettext_noop(
                "The nightly report of %(day)s could not be made or sent after %(attempts)s attempts. "
                "Its page shows what was done; the system log says why."
            ),
            params={"day": day.isoformat(), "attempts": report.failed_attempts},
            url=report.get_absolute_url(),
        )
        report.failed_at = timezone.now()
        fields.append("failed_at")
    report.save(update_fields=fields)
    return report


@transaction.atomic
def nightly_report_restart(*, day: date) -> NightlyReport | None:
    """A manager starts a failed day again: if this run fails too, the managers are told again. None: no such day."""
    report = NightlyReport.objects.select_for_update().filter(day=day).first()
    if report is None or report.sent_at is not None:
        return report
    report.failed_at = None
    report.save(update_fields=["failed_at"])
    return report

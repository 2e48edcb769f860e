"""The nightly manager report: one row per day reported on, the files made for it and who was sent them.

The figures are read once, the first time the day's report is made, and kept as numbers, dates and
names (never worded text): each language's PDF and workbook are written from the same figures, and a
second run of the same day finds them made and sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class NightlyReportState(models.TextChoices):
    """Where a day's report stands, read from its times (it has no state machine of its own)."""

    MAKING = "making", _("Being made")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class FileKind(models.TextChoices):
    PDF = "pdf", _("PDF")
    XLSX = "xlsx", _("Excel workbook")


def nightly_file_path(instance: NightlyReportFile, filename: str) -> str:
    return f"reports/nightly/{instance.report.day:%Y}/{filename}"


class NightlyReport(models.Model):
    """The manager report of one day (the day before it is made): at most one per day."""

    day = models.DateField(_("day"), unique=True)
    # Numbers as strings, dates as ISO text, names as data (reports.nightly.figures); worded when written out.
    figures = models.JSONField(_("figures"), default=dict, blank=True, editable=False)
    failed_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    # What went wrong the last time, for the people who run the system (exception class and message).
    error = models.CharField(_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    made_at = models.DateTimeField(_("made"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)  # to every manager
    # When the last retry failed and the managers were told (once, until someone starts the day again).
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("nightly report")
        verbose_name_plural = _("nightly reports")
        ordering = ["-day"]
        # Reading the archive is reports.view_reports (the manager's); starting a day again is its own.
        default_permissions = ()
        permissions = [("run_nightlyreport", _("Can start a day's nightly report again"))]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return f"{reverse('reports:nightly_list')}#day-{self.day.isoformat()}"

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return NightlyReportState.SENT
        if self.failed_at is not None:
            return NightlyReportState.FAILED
        return NightlyReportState.MAKING

    def get_state_display(self) -> str:
        return NightlyReportState(self.state).label


class NightlyReportFile(models.Model):
    """One written file of a report: its PDF or workbook in one language, stored with its SHA-256."""

    report = models.ForeignKey(NightlyReport, on_delete=models.CASCADE, related_name="files", verbose_name=_("report"))
    language = models.CharField(_("language"), max_length=10)
    kind = models.CharField(_("kind"), max_length=4, choices=FileKind.choices)
    file = models.FileField(_("file"), upload_to=nightly_file_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size"))

    class Meta:
        verbose_name = _("nightly report file")
        verbose_name_plural = _("nightly report files")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["report", "language", "kind"], name="nightly_file_once")]

    def __str__(self) -> str:
        return f"{self.report} {self.language} {self.kind}"


class NightlyReportDelivery(models.Model):
    """A manager was e-mailed the day's report: once per report and person."""

    report = models.ForeignKey(NightlyReport, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("report"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("nightly report delivery")
        verbose_name_plural = _("nightly report deliveries")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["report", "recipient"], name="nightly_delivery_once")]

    def __str__(self) -> str:
        return f"{self.report} → {self.email}"

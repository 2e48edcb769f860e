"""Reads of the nightly report archive: the list managers page through and the files they download."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, QuerySet

from .models import NightlyReport, NightlyReportFile
from .services import report_file


def nightly_report_list() -> QuerySet[NightlyReport]:
    """Every day's report, newest first, with its files and how many managers were sent it (no query per row)."""
    files = NightlyReportFile.objects.only("pk", "report_id", "language", "kind", "size").order_by("language", "kind")
    return (
        NightlyReport.objects.defer("figures")
        .annotate(delivery_count=Count("deliveries"))
        .prefetch_related(Prefetch("files", queryset=files))
        .order_by("-day")
    )


def nightly_report_download(*, day: date, kind: str, language: str) -> NightlyReportFile | None:
    """The day's file of this kind in `language` (else the site's language, else any); None when there is none."""
    report = NightlyReport.objects.filter(day=day).only("pk", "day").first()
    if report is None:
        return None
    return report_file(report, language=language, kind=kind)

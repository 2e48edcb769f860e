"""The nightly report archive: managers page through the days, download each day's PDF or workbook, and
start a day's report again when it failed."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.pagination import CappedPaginator

from .models import FileKind
from .selectors import nightly_report_download, nightly_report_list
from .services import CONTENT_TYPES, file_name, nightly_report_restart
from .tasks import send_nightly_report

PAGE_SIZE = 31
VIEW_PERMISSION = "reports.view_reports"
RUN_PERMISSION = "reports.run_nightlyreport"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Http404 from exc


@permission_required(VIEW_PERMISSION, raise_exception=True)
def nightly_list(request):
    """The archive: one row per day, newest first, with its files in each language and who was sent it."""
    page = CappedPaginator(nightly_report_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/nightly_list.html",
        {
            "page_obj": page,
            "nightly_time": settings.NIGHTLY_REPORT_TIME,
            "may_run": request.user.has_perm(RUN_PERMISSION),
        },
    )


@permission_required(VIEW_PERMISSION, raise_exception=True)
def nightly_download(request, day: str, kind: str):
    """A day's PDF or workbook, in the language asked for (?language=), else the reader's."""
    if kind not in FileKind.values:
        raise Http404
    language = request.GET.get("language") or get_language()
    stored = nightly_report_download(day=_day(day), kind=kind, language=language)
    if stored is None:
        raise Http404
    return FileResponse(
        stored.file.open("rb"),
        content_type=CONTENT_TYPES[kind],
        as_attachment=kind == FileKind.XLSX,
        filename=file_name(stored.report, language=stored.language, kind=kind),
    )


@permission_required(RUN_PERMISSION, raise_exception=True)
@require_POST
def nightly_run_again(request, day: str):
    """Start a day's report again: it is made if it is not, and sent to the managers who have not had it."""
    report = nightly_report_restart(day=_day(day))
    if report is None:
        raise Http404
    if report.sent_at is not None:
        messages.info(request, _("The report of %(day)s was sent already.") % {"day": report.day.isoformat()})
    else:
        transaction.on_commit(lambda: send_nightly_report.delay(day=report.day.isoformat()), robust=True)
        messages.success(request, _("The report of %(day)s is being made and sent again.") % {"day": report.day.isoformat()})
    return redirect("reports:nightly_list")

"""The Sales and Margin report pages (and their CSV, XLSX and PDF): permission, form, the shared report page."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from reports.pages import report_page

from .forms import SalesReportForm
from .pages import build_margin_report, build_sales_report


@require_GET
@permission_required("reports.view_sales_report", raise_exception=True)
def sales_report(request):
    form = SalesReportForm(request.GET, user=request.user)
    return report_page(request, name="sales", title=_("Sales report"), form=form, build=build_sales_report)


@require_GET
@permission_required("reports.view_margin_report", raise_exception=True)
def margin_report(request):
    form = SalesReportForm(request.GET, user=request.user)
    return report_page(request, name="margins", title=_("Margins"), form=form, build=build_margin_report)

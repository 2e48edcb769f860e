"""The receivables report: ageing over time, DSO, the overdue trend and collections by payment
method, each a table with its chart, from the daily receivables snapshot."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.utils.translation import gettext_lazy

from reports.pages import report_page

from .forms import ReceivablesReportForm
from .pages import build_receivables_report


@permission_required("reports.view_receivables_report", raise_exception=True)
def receivables_report(request):
    """Finance and managers: the receivables report, as a page or exported."""
    return report_page(
        request,
        name="receivables",
        title=gettext_lazy("Receivables report"),
        form=ReceivablesReportForm(request.GET),
        build=build_receivables_report,
    )

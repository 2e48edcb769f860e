"""Pages of the cycle reports: Cycle times, Review, Orders at risk (a work queue) and the risk limits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from config.documents import render_pdf
from config.errors import DomainError
from config.exports import export_filename, export_response
from config.pagination import CappedPaginator
from reports.pages import report_page
from reports.snapshots import snapshot_as_of

from . import reports as cycle_reports
from .cached import reason_counts
from .forms import CycleForm, ReviewForm, RiskFilterForm, RiskLimitsForm
from .models import RiskLimits
from .refresh import SNAPSHOT
from .risk import RiskClock, RiskReason
from .selectors import orders_at_risk, risk_rows
from .services import risk_limits_update

RISK_PAGE_SIZE = 50
# A PDF of the queue prints the first rows; the CSV or XLSX export holds them all.
RISK_PDF_ROWS = 500


@permission_required("reports.view_cycle_report", raise_exception=True)
def cycle_times(request):
    """Median and 90th percentile of each stage per week, and on-time delivery."""
    return report_page(
        request,
        name="cycle-times",
        title=gettext_lazy("Cycle times"),
        form=CycleForm(request.GET, user=request.user),
        build=cycle_reports.cycle_times_report,
    )


@permission_required("reports.view_review_report", raise_exception=True)
def review_report(request):
    """Orders flagged per rule, approval rate, time in review, reviewer workload."""
    return report_page(
        request,
        name="review",
        title=gettext_lazy("Review report"),
        form=ReviewForm(request.GET, user=request.user),
        build=cycle_reports.review_report,
    )


def _risk_export_rows(rows, clock):
    for chunk in _chunks(rows.iterator(chunk_size=1000), 1000):
        for row in risk_rows(chunk, clock=clock):
            yield cycle_reports.risk_export_row(row)


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@permission_required("reports.view_risk_queue", raise_exception=True)
def orders_at_risk_queue(request):
    """The orders at risk, each with why; a salesperson sees their own, a manager everyone's."""
    form = RiskFilterForm(request.GET, user=request.user)
    fmt = request.GET.get("format", "html")
    clock = RiskClock.current()
    context = {
        "form": form,
        "as_of": snapshot_as_of(SNAPSHOT),
        "may_set_limits": request.user.has_perm("reports.change_risk_limits"),
        "limits": clock.limits,
    }
    if not form.is_valid():
        return render(request, "reports/cycles/orders_at_risk.html", context, status=200 if fmt == "html" else 400)
    filters = form.risk_filters()
    rows = orders_at_risk(clock=clock, **filters).select_related("order", "customer", "salesperson")
    title = _("Orders at risk")
    if fmt in ("csv", "xlsx"):
        return export_response(
            fmt=fmt,
            filename=export_filename("orders-at-risk"),
            headers=cycle_reports.risk_export_headers(),
            rows=_risk_export_rows(rows, clock),
            sheet_title=title,
        )
    if fmt == "pdf":
        found = risk_rows(list(rows[: RISK_PDF_ROWS + 1]), clock=clock)
        result = cycle_reports.risk_result(found[:RISK_PDF_ROWS], as_of=context["as_of"])
        pdf = render_pdf(
            "documents/report.html",
            {
                "title": title,
                "result": result,
                "headers": result.columns,
                "table": cycle_reports.cells(result),
                "cut": len(found) > RISK_PDF_ROWS,
            },
            language=get_language(),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{export_filename("orders-at-risk")}.pdf"'
        return response
    page_obj = CappedPaginator(rows, RISK_PAGE_SIZE).get_page(request.GET.get("page"))
    without_reason = {key: value for key, value in filters.items() if key != "reasons"}
    context.update(
        page_obj=page_obj,
        rows=risk_rows(page_obj.object_list, clock=clock),
        reason_chips=[
            (reason, label, count)
            for (reason, label), count in zip(
                RiskReason.choices, reason_counts(clock=clock, **without_reason).values(), strict=True
            )
        ],
        chosen_reason=form.cleaned_data.get("reason") or "",
    )
    return render(request, "reports/cycles/orders_at_risk.html", context)


@permission_required("reports.change_risk_limits", raise_exception=True)
def risk_limits(request):
    """Managers set how long an order may stay in each state before it counts as stuck."""
    current = RiskLimits.current()
    form = RiskLimitsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            risk_limits_update(values=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, _("The limits are saved; the orders at risk follow them at once."))
            return redirect("reports:risk_limits")
    return render(request, "reports/cycles/risk_limits.html", {"form": form, "limits_row": current})

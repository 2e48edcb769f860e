"""The receivables page: the ageing of what customers owe, per customer and in total, and its export."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from billing import ageing
from billing.statements.forms import ReceivablesFilterForm

PAGE_SIZE = 50


@permission_required("billing.view_receivables", raise_exception=True)
def receivables(request):
    """Open receivables by customer in ageing buckets (by due date), with the totals; filter by salesperson and customer."""
    form = ReceivablesFilterForm(request.GET)
    filters = form.values()
    # One grouped query gives every customer's row; the totals and the page come from those rows, and
    # the customers' names are read for the page's rows only.
    rows = list(ageing.ageing_by_customer(**filters, with_names=False))
    totals = ageing.sum_rows(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    buckets = ageing.ageing_buckets()
    page_rows = [{**row, "amounts": [row[b.key] for b in buckets]} for row in ageing.customer_names(page.object_list)]
    context = {
        "filter": {"form": form},
        "page_obj": page,
        "rows": page_rows,
        "buckets": buckets,
        "totals": totals,
        "total_amounts": [totals[b.key] for b in buckets],
        "as_of": filters["as_of"],
    }
    return render(request, "billing/receivables.html", context)


@permission_required(("billing.view_receivables", "billing.export_invoice"), raise_exception=True)
def receivables_export(request):
    """The ageing as the page filters it, as CSV or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in ("csv", "xlsx"):
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    form = ReceivablesFilterForm(request.GET)
    filters = form.values()
    rows = ageing.ageing_by_customer(**filters)
    totals = ageing.ageing_totals(as_of=filters["as_of"], salesperson_id=filters["salesperson_id"], search=filters["search"])
    return ageing.ageing_export_response(rows, totals, as_of=filters["as_of"], fmt=export_format)

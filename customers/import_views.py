"""Customers in and out of spreadsheets: import with a dry run, export of the filtered list."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.urls import reverse

from config.imports import export_filename, export_response, import_page

from . import selectors
from .imports import CustomerImport, customer_export_table

EXPORT_FORMATS = ("csv", "xlsx")


@permission_required(["customers.import_customer", "customers.add_customer", "customers.change_customer"], raise_exception=True)
def customer_import(request):
    """Upload → every row checked and shown → all rows saved in one transaction, or none."""
    return import_page(
        request,
        spec=CustomerImport(user=request.user),
        template_name="customers/customer_import.html",
        session_key="import:customers",
        done_url=reverse("customers:list"),
    )


@permission_required("customers.export_customer", raise_exception=True)
def customer_export(request):
    """The list as filtered on the page, as CSV (UTF-8 with BOM, for Excel) or XLSX."""
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        fmt = "csv"
    filterset = selectors.customer_list(filters=request.GET, user=request.user)
    headers, rows = customer_export_table(filterset.qs)
    return export_response(fmt=fmt, filename=export_filename("customers"), headers=headers, rows=rows, sheet_title="customers")

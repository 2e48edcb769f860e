"""Who may open the invoice and credit note pages: finance and managers by permission, sales staff
for the invoices of their own orders (each page then shows only what billing.selectors lets them see)."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from billing.selectors import may_read_invoices


def invoice_reader_required(view):
    """403 for anyone who may read no invoice at all."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_read_invoices(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped

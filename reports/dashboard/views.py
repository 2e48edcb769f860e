"""The manager dashboard page."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from .selectors import manager_dashboard


@permission_required("reports.view_reports", raise_exception=True)
def dashboard(request):
    """Today and the month to date at a glance, with small charts and links into every report."""
    return render(request, "reports/dashboard.html", {"dashboard": manager_dashboard(user=request.user)})

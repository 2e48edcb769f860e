from __future__ import annotations

from django.urls import path

from reports.receivables.views import receivables_report
from reports.stock.views import stock_report

app_name = "reports"

urlpatterns: list = [
    path("stock/", stock_report, name="stock"),
    path("receivables/", receivables_report, name="receivables"),
]

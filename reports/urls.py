from __future__ import annotations

from django.urls import include, path

app_name = "reports"

urlpatterns: list = [
    path("", include("reports.sales.urls")),
]

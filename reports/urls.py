from __future__ import annotations

from django.urls import include, path

app_name = "reports"

urlpatterns: list = [
    path("customers/", include("reports.customers.urls")),
]

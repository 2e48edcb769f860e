from __future__ import annotations

from reports.dashboard.urls import urlpatterns as dashboard_urls
from reports.nightly.urls import urlpatterns as nightly_urls

app_name = "reports"

urlpatterns: list = [*dashboard_urls, *nightly_urls]

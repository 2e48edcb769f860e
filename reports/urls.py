from __future__ import annotations

from reports.cycles.urls import urlpatterns as cycles_urls
from reports.dashboard.urls import urlpatterns as dashboard_urls
from reports.nightly.urls import urlpatterns as nightly_urls
from reports.sales.urls import urlpatterns as sales_urls

app_name = "reports"

urlpatterns: list = [*dashboard_urls, *sales_urls, *cycles_urls, *nightly_urls]

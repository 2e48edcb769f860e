from __future__ import annotations

from reports.customers.urls import urlpatterns as customers_urls
from reports.cycles.urls import urlpatterns as cycles_urls
from reports.dashboard.urls import urlpatterns as dashboard_urls
from reports.nightly.urls import urlpatterns as nightly_urls
from reports.receivables.urls import urlpatterns as receivables_urls
from reports.sales.urls import urlpatterns as sales_urls
from reports.stock.urls import urlpatterns as stock_urls

app_name = "reports"

urlpatterns: list = [*dashboard_urls, *sales_urls, *customers_urls, *cycles_urls, *nightly_urls, *stock_urls, *receivables_urls]

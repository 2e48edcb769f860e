from __future__ import annotations

from .urls_catalog import urlpatterns as catalog_urls
from .urls_counts import urlpatterns as count_urls
from .urls_stock import urlpatterns as stock_urls

app_name = "inventory"

urlpatterns = [*catalog_urls, *stock_urls, *count_urls]

from __future__ import annotations

from .catalog.urls import urlpatterns as catalog_urls
from .counts.urls import urlpatterns as count_urls
from .stock.urls import urlpatterns as stock_urls
from .transfers.urls import urlpatterns as transfer_urls

app_name = "inventory"

urlpatterns = [*catalog_urls, *stock_urls, *count_urls, *transfer_urls]

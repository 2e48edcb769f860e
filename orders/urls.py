from __future__ import annotations

from .entry.urls import urlpatterns as entry_urls
from .fulfilment.urls import urlpatterns as fulfilment_urls
from .review.urls import urlpatterns as review_urls

app_name = "orders"

urlpatterns = [*entry_urls, *review_urls, *fulfilment_urls]

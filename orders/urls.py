from __future__ import annotations

from .urls_entry import urlpatterns as entry_urls
from .urls_review import urlpatterns as review_urls

app_name = "orders"

urlpatterns = [*entry_urls, *review_urls]

from __future__ import annotations

from django.urls import include, path

app_name = "logistics"

urlpatterns = [
    path("", include("logistics.shipments.urls")),
    path("", include("logistics.exceptions.urls")),
    path("", include("logistics.tracking.urls")),
    path("", include("logistics.returns.urls")),
    path("", include("logistics.shipments.wave_urls")),
]

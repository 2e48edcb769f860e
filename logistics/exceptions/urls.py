from __future__ import annotations

from django.urls import path

from logistics.exceptions import views

urlpatterns = [
    path("exceptions/", views.exception_list, name="exception_list"),
    path("exceptions/<int:pk>/", views.exception_detail, name="exception_detail"),
    path("exceptions/<int:pk>/resolve/", views.exception_resolve, name="exception_resolve"),
    path("shipments/<int:shipment_id>/report-exception/", views.exception_report, name="exception_report"),
]

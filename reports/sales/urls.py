from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("sales/", views.sales_report, name="sales"),
    path("margins/", views.margin_report, name="margins"),
]

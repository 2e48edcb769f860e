"""The customer report's pages (joined to reports.urls, under the reports namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customer_report, name="customers"),
    path("customers/<int:pk>/", views.customer_relationship, name="customer_relationship"),
]

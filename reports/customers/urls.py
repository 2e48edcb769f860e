"""The customer report's pages (under the reports namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.customer_report, name="customers"),
    path("<int:pk>/", views.customer_relationship, name="customer_relationship"),
]

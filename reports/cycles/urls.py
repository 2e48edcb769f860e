"""URLs of the cycle reports (under the reports app's namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("cycle-times/", views.cycle_times, name="cycle_times"),
    path("review/", views.review_report, name="review"),
    path("orders-at-risk/", views.orders_at_risk_queue, name="at_risk"),
    path("orders-at-risk/limits/", views.risk_limits, name="risk_limits"),
]

from __future__ import annotations

from django.urls import path

from . import views as review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/settings/", review_views.review_settings, name="review_settings"),
    path("<int:pk>/approve/", review_views.order_approve, name="approve"),
    path("<int:pk>/reject/", review_views.order_reject, name="reject"),
]

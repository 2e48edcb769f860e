from __future__ import annotations

from django.urls import path

from . import review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review_queue"),
]

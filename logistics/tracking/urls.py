from __future__ import annotations

from django.urls import path

from logistics.tracking import staff_views

urlpatterns = [
    path("tracking/import/", staff_views.tracking_import_page, name="tracking_import"),
    path("tracking/unmatched/", staff_views.unmatched_list_view, name="unmatched_list"),
    path("tracking/unmatched/<int:pk>/assign/", staff_views.unmatched_assign_view, name="unmatched_assign"),
    path("tracking/unmatched/<int:pk>/dismiss/", staff_views.unmatched_dismiss_view, name="unmatched_dismiss"),
]

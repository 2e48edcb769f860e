from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("allocation/", views.allocation, name="allocation"),
    path("allocation/run/", views.allocation_run, name="allocation_run"),
    path("allocation/run/<int:pk>/", views.allocation_progress, name="allocation_progress"),
]

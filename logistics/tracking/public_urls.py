from __future__ import annotations

from django.urls import path

from logistics.tracking import views

urlpatterns = [
    path("<str:token>/", views.tracking_page, name="tracking_page"),
]

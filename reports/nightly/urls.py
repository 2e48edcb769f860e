from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("nightly/", views.nightly_list, name="nightly_list"),
    path("nightly/<str:day>/again/", views.nightly_run_again, name="nightly_run_again"),
    path("nightly/<str:day>/<str:kind>/", views.nightly_download, name="nightly_download"),
]

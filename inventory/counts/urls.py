"""Stock counts (盘点)."""

from __future__ import annotations

from django.urls import path

from . import views as count_views

urlpatterns = [
    path("counts/", count_views.count_list, name="count_list"),
    path("counts/new/", count_views.count_create, name="count_create"),
    path("counts/<int:pk>/", count_views.count_detail, name="count_detail"),
    path("counts/<int:pk>/scan/", count_views.count_scan, name="count_scan"),
    path("counts/<int:pk>/review/", count_views.count_review, name="count_review"),
    path("counts/<int:pk>/post/", count_views.count_post, name="count_post"),
    path("counts/<int:pk>/cancel/", count_views.count_cancel, name="count_cancel"),
    path("counts/<int:pk>/sheet.pdf", count_views.count_sheet, name="count_sheet"),
]

"""Stock counts (盘点) and transfers (调拨) between warehouses."""

from __future__ import annotations

from django.urls import path

from . import count_views, transfer_views

urlpatterns = [
    path("counts/", count_views.count_list, name="count_list"),
    path("counts/new/", count_views.count_create, name="count_create"),
    path("counts/<int:pk>/", count_views.count_detail, name="count_detail"),
    path("counts/<int:pk>/scan/", count_views.count_scan, name="count_scan"),
    path("counts/<int:pk>/review/", count_views.count_review, name="count_review"),
    path("counts/<int:pk>/post/", count_views.count_post, name="count_post"),
    path("counts/<int:pk>/cancel/", count_views.count_cancel, name="count_cancel"),
    path("counts/<int:pk>/sheet.pdf", count_views.count_sheet, name="count_sheet"),
    path("transfers/", transfer_views.transfer_list, name="transfer_list"),
    path("transfers/new/", transfer_views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/lines/", transfer_views.transfer_add_line, name="transfer_add_line"),
    path("transfers/<int:pk>/lines/<int:line_id>/remove/", transfer_views.transfer_remove_line, name="transfer_remove_line"),
    path("transfers/<int:pk>/ship/", transfer_views.transfer_ship, name="transfer_ship"),
    path("transfers/<int:pk>/receive/", transfer_views.transfer_receive, name="transfer_receive"),
    path("transfers/<int:pk>/cancel/", transfer_views.transfer_cancel, name="transfer_cancel"),
]

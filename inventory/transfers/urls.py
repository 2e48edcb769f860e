"""Transfers (调拨) between warehouses."""

from __future__ import annotations

from django.urls import path

from . import views as transfer_views

urlpatterns = [
    path("transfers/", transfer_views.transfer_list, name="transfer_list"),
    path("transfers/new/", transfer_views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/lines/", transfer_views.transfer_add_line, name="transfer_add_line"),
    path("transfers/<int:pk>/lines/<int:line_id>/remove/", transfer_views.transfer_remove_line, name="transfer_remove_line"),
    path("transfers/<int:pk>/ship/", transfer_views.transfer_ship, name="transfer_ship"),
    path("transfers/<int:pk>/receive/", transfer_views.transfer_receive, name="transfer_receive"),
    path("transfers/<int:pk>/cancel/", transfer_views.transfer_cancel, name="transfer_cancel"),
]

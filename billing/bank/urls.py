from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("bank/", views.statement_list_view, name="bankstatement_list"),
    path("bank/import/", views.statement_import, name="bankstatement_import"),
    path("bank/imports/<int:pk>/", views.import_detail, name="bankimport_detail"),
    path("bank/statements/<int:pk>/", views.statement_detail, name="bankstatement_detail"),
    path("bank/lines/", views.line_queue, name="bankline_queue"),
    path("bank/lines/combine/", views.lines_combine, name="bankline_combine"),
    path("bank/lines/<int:pk>/", views.line_detail, name="bankline_detail"),
    path("bank/lines/<int:pk>/accept/<int:suggestion_id>/", views.line_accept, name="bankline_accept"),
    path("bank/lines/<int:pk>/split/", views.line_split, name="bankline_split"),
    path("bank/lines/<int:pk>/ignore/", views.line_ignore, name="bankline_ignore"),
    path("bank/lines/<int:pk>/undo/", views.line_undo, name="bankline_undo"),
    path("bank/accounts/", views.account_list, name="bankaccount_list"),
    path("bank/accounts/new/", views.account_create, name="bankaccount_create"),
    path("bank/accounts/<int:pk>/", views.account_edit, name="bankaccount_edit"),
    path("bank/mappings/new/", views.mapping_create, name="bankmapping_create"),
    path("bank/mappings/<int:pk>/", views.mapping_edit, name="bankmapping_edit"),
]

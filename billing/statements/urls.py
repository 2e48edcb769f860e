from __future__ import annotations

from django.urls import path

from billing.statements import ageing_views, public_views, views

urlpatterns = [
    path("receivables/", ageing_views.receivables, name="receivables"),
    path("receivables/export/", ageing_views.receivables_export, name="receivables_export"),
    path("statements/", views.statement_list_view, name="statement_list"),
    path("statements/new/", views.statement_create, name="statement_create"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/send/", views.statement_send, name="statement_send"),
    path("statements/<int:pk>/withdraw/", views.statement_withdraw, name="statement_withdraw"),
    path("statements/<int:pk>/revoke-link/", views.statement_link_revoke, name="statement_link_revoke"),
    path("statements/<int:pk>/statement.<str:kind>", views.statement_document, name="statement_document"),
    # The customer's page, no login: reached only by the unguessable link in the e-mail.
    path("s/<str:token>/", public_views.statement_public, name="statement_public"),
]

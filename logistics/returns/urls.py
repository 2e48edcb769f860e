from __future__ import annotations

from django.urls import path

from logistics.returns import views

urlpatterns = [
    path("returns/", views.return_list_view, name="return_list"),
    path("returns/export/", views.return_export, name="return_export"),
    path("orders/<int:order_id>/return/", views.return_create, name="return_create"),
    path("returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("returns/<int:pk>/approve/", views.return_approve, name="return_approve"),
    path("returns/<int:pk>/reject/", views.return_reject, name="return_reject"),
    path("returns/<int:pk>/receive/", views.return_receive, name="return_receive"),
    path("returns/<int:pk>/close/", views.return_close, name="return_close"),
    path("returns/<int:pk>/label.pdf", views.return_label, name="return_label"),
]

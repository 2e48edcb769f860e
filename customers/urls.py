from __future__ import annotations

from django.urls import path

from . import address_views, complaint_views, credit_views, import_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("import/", import_views.customer_import, name="import"),
    path("export/", import_views.customer_export, name="export"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/block/", views.customer_block, name="block"),
    path("<int:pk>/unblock/", views.customer_unblock, name="unblock"),
    path("<int:pk>/credit-request/", credit_views.credit_request_create, name="credit_request_create"),
    path("credit-requests/", credit_views.credit_request_list, name="credit_request_list"),
    path("credit-requests/<int:pk>/decide/", credit_views.credit_request_decide, name="credit_request_decide"),
    path("<int:pk>/addresses/new/", address_views.address_create, name="address_create"),
    path("<int:pk>/addresses/<int:address_pk>/edit/", address_views.address_edit, name="address_edit"),
    path("<int:pk>/addresses/<int:address_pk>/delete/", address_views.address_delete, name="address_delete"),
    path("<int:pk>/addresses/<int:address_pk>/default/", address_views.address_set_default, name="address_set_default"),
    path("<int:pk>/contacts/new/", address_views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", address_views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", address_views.contact_delete, name="contact_delete"),
    path("<int:pk>/complaints/new/", complaint_views.complaint_create, name="complaint_create"),
    path("complaints/", complaint_views.complaint_list, name="complaint_list"),
    path("complaints/new/", complaint_views.complaint_pick_customer, name="complaint_pick_customer"),
    path("complaints/<int:pk>/", complaint_views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/edit/", complaint_views.complaint_edit, name="complaint_edit"),
    path("complaints/<int:pk>/transition/", complaint_views.complaint_transition, name="complaint_transition"),
]

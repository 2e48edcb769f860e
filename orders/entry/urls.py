from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.order_list, name="list"),
    path("export/", views.order_export, name="export"),
    path("new/", views.order_create, name="create"),
    path("entry/lines/", views.order_lines, name="entry_lines"),
    path("entry/customers/", views.order_customer_search, name="entry_customer_search"),
    path("entry/customer/", views.order_customer_pick, name="entry_customer_pick"),
    path("entry/products/", views.order_product_search, name="entry_product_search"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/submit/", views.order_submit, name="submit"),
    path("<int:pk>/cancel/", views.order_cancel, name="cancel"),
    path("<int:pk>/reopen/", views.order_reopen, name="reopen"),
]

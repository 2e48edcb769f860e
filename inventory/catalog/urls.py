from __future__ import annotations

from django.urls import path

from inventory.catalog import views as catalog_views

urlpatterns = [
    path("products/", catalog_views.product_list, name="product_list"),
    path("products/new/", catalog_views.product_create, name="product_create"),
    path("products/import/", catalog_views.product_import, name="product_import"),
    path("products/export/", catalog_views.product_export, name="product_export"),
    path("products/<int:pk>/", catalog_views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", catalog_views.product_edit, name="product_edit"),
    path("products/<int:pk>/deactivate/", catalog_views.product_deactivate, name="product_deactivate"),
    path("products/<int:pk>/activate/", catalog_views.product_activate, name="product_activate"),
]

"""Stock pages: overview, product stock, receipts, adjustments, allocation, alerts, replenishment."""

from __future__ import annotations

from django.urls import path

from inventory.stock import views

urlpatterns = [
    path("stock/", views.stock_overview, name="stock_overview"),
    path("stock/products/<int:pk>/", views.product_stock, name="product_stock"),
    path("stock/products/<int:pk>/planning/<int:warehouse_id>/", views.stock_planning, name="stock_planning"),
    path("stock/receipt/", views.receipt, name="receipt"),
    path("stock/lookup/", views.product_lookup, name="stock_lookup"),
    path("stock/adjust/", views.adjust, name="adjust"),
    path("stock/movements/<int:pk>/reverse/", views.movement_reverse, name="movement_reverse"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("replenishment/", views.replenishment_list, name="replenishment_list"),
    path("replenishment/new/", views.replenishment_create, name="replenishment_create"),
    path("replenishment/from-proposal/", views.replenishment_from_proposal, name="replenishment_from_proposal"),
    path("replenishment/<int:pk>/", views.replenishment_detail, name="replenishment_detail"),
    path("replenishment/<int:pk>/place/", views.replenishment_place, name="replenishment_place"),
    path("replenishment/<int:pk>/cancel/", views.replenishment_cancel, name="replenishment_cancel"),
    path("replenishment/<int:pk>/receive/", views.replenishment_receive, name="replenishment_receive"),
]

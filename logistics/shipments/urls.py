from __future__ import annotations

from django.urls import path

from logistics.shipments import export_views, views

urlpatterns = [
    path("pick/", views.pick_queue, name="pick_queue"),
    path("shipments/", views.shipment_list_view, name="shipment_list"),
    path("shipments/export/", export_views.shipment_export, name="shipment_export"),
    path("orders/<int:order_id>/ship/", views.shipment_create, name="shipment_create"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment_detail"),
    path("shipments/<int:pk>/start-picking/", views.shipment_start_picking, name="shipment_start_picking"),
    path("shipments/<int:pk>/scan/", views.shipment_scan, name="shipment_scan"),
    path("shipments/<int:pk>/pack/", views.shipment_pack, name="shipment_pack"),
    path("shipments/<int:pk>/ship/", views.shipment_ship, name="shipment_ship"),
    path("shipments/<int:pk>/deliver/", views.shipment_confirm_delivery, name="shipment_confirm_delivery"),
    path("shipments/<int:pk>/cancel/", views.shipment_cancel, name="shipment_cancel"),
    path("shipments/<int:pk>/<str:kind>.pdf", views.shipment_document, name="shipment_document"),
]

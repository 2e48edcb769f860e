from __future__ import annotations

from django.urls import path

from billing.payments import views

urlpatterns = [
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/export/", views.payment_export, name="payment_export"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"),
    path("payments/<int:pk>/write-off/", views.payment_write_off, name="payment_write_off"),
    path("payments/<int:pk>/write-off-invoice/", views.invoice_write_off, name="invoice_write_off"),
    path("payments/<int:pk>/void/", views.payment_void, name="payment_void"),
    path("payments/<int:pk>/bill/<str:action>/", views.bill_action, name="bill_action"),
    path("allocations/<int:pk>/undo/", views.allocation_undo, name="allocation_undo"),
    path("write-offs/<int:pk>/undo/", views.write_off_undo, name="write_off_undo"),
    path("refunds/", views.refund_list, name="refund_list"),
    path("refunds/new/", views.refund_create, name="refund_create"),
    path("refunds/<int:pk>/", views.refund_detail, name="refund_detail"),
    path("refunds/<int:pk>/pay/", views.refund_pay, name="refund_pay"),
    path("refunds/<int:pk>/cancel/", views.refund_cancel, name="refund_cancel"),
]

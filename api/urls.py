from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import pages, views

app_name = "api"


def _endpoint(view_class):
    """API endpoints authenticate themselves (token or session): the site's log-in redirect does not apply."""
    return login_not_required(view_class.as_view())


urlpatterns = [
    # the manager's pages
    path("clients/", pages.client_list, name="client_list"),
    path("clients/new/", pages.client_create, name="client_create"),
    path("clients/<int:pk>/", pages.client_detail, name="client_detail"),
    path("clients/<int:pk>/revoke/", pages.client_revoke, name="client_revoke"),
    # the OpenAPI document and its Swagger UI (assets from drf-spectacular-sidecar, served locally)
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")),
        name="docs",
    ),
    # v1
    path("v1/orders/", _endpoint(views.OrderListCreate), name="orders"),
    re_path(r"^v1/orders/(?P<number>[A-Za-z0-9-]{1,20})/$", _endpoint(views.OrderDetail), name="order"),
    re_path(r"^v1/orders/(?P<number>[A-Za-z0-9-]{1,20})/cancel/$", _endpoint(views.OrderCancel), name="order_cancel"),
    path("v1/products/", _endpoint(views.ProductList), name="products"),
    path("v1/customers/", _endpoint(views.CustomerList), name="customers"),
    re_path(r"^v1/customers/(?P<code>[A-Za-z0-9-]{1,20})/$", _endpoint(views.CustomerDetail), name="customer"),
    path("v1/shipments/", _endpoint(views.ShipmentList), name="shipments"),
    re_path(r"^v1/shipments/(?P<number>[A-Za-z0-9-]{1,20})/$", _endpoint(views.ShipmentDetail), name="shipment"),
    path("v1/invoices/", _endpoint(views.InvoiceList), name="invoices"),
    re_path(r"^v1/invoices/(?P<number>[A-Za-z0-9-]{1,20})/$", _endpoint(views.InvoiceDetail), name="invoice"),
    re_path(r"^v1/invoices/(?P<number>[A-Za-z0-9-]{1,20})/pdf/$", _endpoint(views.InvoicePdf), name="invoice_pdf"),
    re_path(r"^v1/", login_not_required(views.not_found)),
]

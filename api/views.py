"""The API's endpoints: each parses, calls one service or selector, and answers in the API's JSON shapes."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from api import selectors
from api.authentication import request_actor, request_client
from api.errors import ErrorSerializer, error_json
from api.filters import CustomerFilter, InvoiceFilter, OrderFilter, ProductFilter, ShipmentFilter
from api.idempotency import HEADER, idempotent
from api.pagination import (
    CustomerCursorPagination,
    InvoiceCursorPagination,
    OrderCursorPagination,
    ProductCursorPagination,
    ShipmentCursorPagination,
)
from api.serializers import (
    CancelInSerializer,
    CustomerSerializer,
    InvoiceSerializer,
    OrderInSerializer,
    OrderSerializer,
    ProductSerializer,
    ShipmentSerializer,
)
from api.services import order_intake
from orders.entry.services import order_cancel
from orders.models import Channel


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


READ_ERRORS = {
    400: _error("A filter or the cursor is not valid."),
    401: _error("No token, an unknown one or a revoked one."),
    403: _error("The token's scopes (or the user's role) do not allow this."),
    406: _error("Only JSON is answered."),
    429: _error("Too many requests: wait for Retry-After seconds."),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: _error("The body is not valid JSON or not valid for this endpoint (see fields and lines)."),
    409: _error("A request with this Idempotency-Key is still running, or the order exists already (duplicate_external_ref)."),
    413: _error("The body is too large."),
    415: _error("The body is not JSON."),
    422: _error("Refused by a business rule, or the Idempotency-Key was used with another body."),
}
NOT_FOUND = {404: _error("No such record (or not one this client may see).")}
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID) per request: a retry with the same key and body gets the first answer "
    "again and does nothing twice; the same key with another body answers 422. Keys are kept at least 24 hours.",
)


class ApiView(GenericAPIView):
    """Permissions per method in `required_permissions`; the queryset depends on who asks (a client its channel)."""

    required_permissions: dict[str, list[str]] = {}

    @property
    def client(self):
        return request_client(self.request)

    def list_response(self, queryset, **context) -> Response:
        page = self.paginate_queryset(self.filter_queryset(queryset))
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(), **context})
        return self.get_paginated_response(serializer.data)


def present_order(order_pk: int, *, view) -> dict:
    order = selectors.orders_for(client=None).get(pk=order_pk)
    return OrderSerializer(order, context={"request": view.request}).data


class OrderListCreate(ApiView):
    """Orders of the client's channel: list and push in."""

    required_permissions = {
        "GET": ["orders.view_salesorder"],
        "POST": ["orders.add_salesorder", "orders.submit_salesorder"],
    }
    serializer_class = OrderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    pagination_class = OrderCursorPagination

    def get_queryset(self):
        return selectors.orders_for(client=self.client)

    @extend_schema(
        operation_id="orders_list",
        summary="Orders, oldest change first",
        description="A client sees its own channel's orders. Poll with `updated_since` and follow `next`.",
        responses={200: OrderSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.list_response(self.get_queryset())

    @extend_schema(
        operation_id="orders_create",
        summary="Push an order in: created and submitted to the automatic checks",
        description="The channel is the client's. One order per channel and `external_ref`: pushing the same "
        "reference again answers 409 `duplicate_external_ref` with the existing order's number in `params.number`.",
        request=OrderInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OrderSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        return idempotent(request, lambda: self._create(request), view=self)

    def _create(self, request) -> Response:
        entered = OrderInSerializer(data=request.data)
        entered.is_valid(raise_exception=True)
        client = self.client
        order = order_intake(
            request=entered.to_request(), channel=client.channel if client else Channel.API, by=request_actor(request)
        )
        return Response(present_order(order.pk, view=self), status=status.HTTP_201_CREATED)


NUMBER_PARAMETER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="SO-2026-000123")


class OrderDetail(ApiView):
    """One order with its lines, shipments and payment status."""

    required_permissions = {"GET": ["orders.view_salesorder"]}
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_read", parameters=[NUMBER_PARAMETER], responses={200: OrderSerializer, **READ_ERRORS, **NOT_FOUND}
    )
    def get(self, request, number: str):
        order = get_object_or_404(selectors.orders_for(client=self.client), number=number)
        return Response(present_order(order.pk, view=self))


class OrderCancel(ApiView):
    """Cancel an order before its first shipment."""

    required_permissions = {"POST": ["orders.cancel_salesorder"]}
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel an order before its first shipment",
        parameters=[NUMBER_PARAMETER, IDEMPOTENCY_KEY],
        request=CancelInSerializer,
        responses={200: OrderSerializer, **WRITE_ERRORS, **NOT_FOUND},
    )
    def post(self, request, number: str):
        return idempotent(request, lambda: self._cancel(request, number), view=self)

    def _cancel(self, request, number: str) -> Response:
        order = get_object_or_404(selectors.orders_for(client=self.client), number=number)
        entered = CancelInSerializer(data=request.data)
        entered.is_valid(raise_exception=True)
        order_cancel(order=order, by=request_actor(request), reason=entered.validated_data["reason"])
        return Response(present_order(order.pk, view=self))


class ProductList(ApiView):
    """Products with free stock per warehouse."""

    required_permissions = {"GET": ["inventory.view_product"]}
    serializer_class = ProductSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    pagination_class = ProductCursorPagination

    def get_queryset(self):
        return selectors.products()

    @extend_schema(
        operation_id="products_list",
        summary="Products with free stock per warehouse",
        responses={200: ProductSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "stock": selectors.stock_by_product(page)}
        return self.get_paginated_response(ProductSerializer(page, many=True, context=context).data)


CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="C000123")


class CustomerList(ApiView):
    """Customers the client's channel knows."""

    required_permissions = {"GET": ["customers.view_customer"]}
    serializer_class = CustomerSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerFilter
    pagination_class = CustomerCursorPagination

    def get_queryset(self):
        return selectors.customers_for(client=self.client)

    @extend_schema(
        operation_id="customers_list",
        description="A client sees the customers its channel created or ordered for.",
        responses={200: CustomerSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.list_response(self.get_queryset())


class CustomerDetail(ApiView):
    """One customer."""

    required_permissions = {"GET": ["customers.view_customer"]}
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_read",
        parameters=[CODE_PARAMETER],
        responses={200: CustomerSerializer, **READ_ERRORS, **NOT_FOUND},
    )
    def get(self, request, code: str):
        customer = get_object_or_404(selectors.customers_for(client=self.client), code=code)
        return Response(CustomerSerializer(customer).data)


class ShipmentList(ApiView):
    """Shipments of the client's channel's orders."""

    required_permissions = {"GET": ["logistics.view_shipment"]}
    serializer_class = ShipmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ShipmentFilter
    pagination_class = ShipmentCursorPagination

    def get_queryset(self):
        return selectors.shipments_for(client=self.client)

    @extend_schema(
        operation_id="shipments_list",
        description="A client sees the shipments of its channel's orders.",
        responses={200: ShipmentSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.list_response(self.get_queryset())


class ShipmentDetail(ApiView):
    """One shipment with its parcels and tracking links."""

    required_permissions = {"GET": ["logistics.view_shipment"]}
    serializer_class = ShipmentSerializer

    @extend_schema(
        operation_id="shipments_read",
        parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="SH-2026-000123")],
        responses={200: ShipmentSerializer, **READ_ERRORS, **NOT_FOUND},
    )
    def get(self, request, number: str):
        shipment = get_object_or_404(selectors.shipments_for(client=self.client), number=number)
        return Response(ShipmentSerializer(shipment).data)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for the PDF with `Accept: application/pdf`; the file itself is streamed, never rendered."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


INVOICE_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="INV-2026-000123")


class InvoiceList(ApiView):
    """Issued invoices of the client's channel's orders."""

    required_permissions = {"GET": ["billing.view_invoice"]}
    serializer_class = InvoiceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = InvoiceFilter
    pagination_class = InvoiceCursorPagination

    def get_queryset(self):
        return selectors.invoices_for(client=self.client)

    @extend_schema(
        operation_id="invoices_list",
        description="Issued invoices, newest first; a client sees those billing its channel's orders.",
        responses={200: InvoiceSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.list_response(self.get_queryset())


class InvoiceDetail(ApiView):
    """One issued invoice with its lines."""

    required_permissions = {"GET": ["billing.view_invoice"]}
    serializer_class = InvoiceSerializer

    @extend_schema(
        operation_id="invoices_read", parameters=[INVOICE_NUMBER], responses={200: InvoiceSerializer, **READ_ERRORS, **NOT_FOUND}
    )
    def get(self, request, number: str):
        invoice = get_object_or_404(selectors.invoices_for(client=self.client), number=number)
        return Response(InvoiceSerializer(invoice).data)


class InvoicePdf(ApiView):
    """The PDF stored when the invoice was issued."""

    required_permissions = {"GET": ["billing.view_invoice"]}
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="invoices_pdf",
        summary="The issued invoice's PDF, as stored when it was issued",
        parameters=[INVOICE_NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            **READ_ERRORS,
            **NOT_FOUND,
        },
    )
    def get(self, request, number: str):
        invoice = get_object_or_404(selectors.invoices_for(client=self.client), number=number)
        if not invoice.pdf:
            raise NotFound(_("This invoice has no stored PDF yet."))
        try:
            handle = invoice.pdf.open("rb")
        except FileNotFoundError:
            raise NotFound(_("This invoice has no stored PDF yet."))
        return FileResponse(handle, content_type="application/pdf", filename=f"{invoice.number}.pdf")


@csrf_exempt  # a POST to a wrong address is answered 404 in JSON, not refused as a form without its CSRF token
def not_found(request, *args, **kwargs):
    """Any other path under the API: 404 in the API's shape (never the HTML page)."""
    return error_json(404, "not_found", _("There is no API endpoint at this address."))

"""Reads of the channel API: what a client may see (its own channel's orders and shipments), in few queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from api.models import ApiClient, ChannelCustomer
from billing.models import Invoice, InvoiceLine, InvoiceStatus
from customers.models import Customer
from inventory.models import Product
from inventory.stock.selectors import availability_by_warehouse
from logistics.models import OrderTrackingToken, Parcel, Shipment
from orders.models import SalesOrder, SalesOrderLine


def _shipments():
    return Shipment.objects.select_related("carrier", "warehouse", "order").prefetch_related(
        Prefetch("parcels", queryset=Parcel.objects.select_related("carrier").order_by("index"))
    )


def orders_for(*, client: ApiClient | None) -> QuerySet[SalesOrder]:
    """Orders with what the API shows of them (lines, shipments and parcels prefetched); a client sees its channel's."""
    live_token = OrderTrackingToken.objects.filter(order=OuterRef("pk"), revoked_at__isnull=True).values("token")[:1]
    orders = (
        SalesOrder.objects.select_related("customer", "shipping_address")
        .annotate(tracking_token_value=Subquery(live_token))
        .prefetch_related(
            Prefetch("lines", queryset=SalesOrderLine.objects.select_related("product").order_by("position", "pk")),
            Prefetch("shipments", queryset=_shipments().order_by("created_at", "pk")),
        )
    )
    if client is not None:
        orders = orders.filter(channel=client.channel)
    return orders


def shipments_for(*, client: ApiClient | None) -> QuerySet[Shipment]:
    shipments = _shipments()
    if client is not None:
        shipments = shipments.filter(order__channel=client.channel)
    return shipments


def customers_for(*, client: ApiClient | None) -> QuerySet[Customer]:
    """A client sees the customers its channel knows by id or has ordered for; staff see all."""
    customers = Customer.objects.all()
    if client is not None:
        known = ChannelCustomer.objects.filter(customer=OuterRef("pk"), channel=client.channel)
        ordered = SalesOrder.objects.filter(customer=OuterRef("pk"), channel=client.channel)
        customers = customers.filter(Q(Exists(known)) | Q(Exists(ordered)))
    return customers


def products() -> QuerySet[Product]:
    return Product.objects.all()


def stock_by_product(products_page) -> dict[int, list[tuple[str, int]]]:
    """Free stock per warehouse for a page of products (one query)."""
    return availability_by_warehouse(product_ids=[product.pk for product in products_page])


def invoices_for(*, client: ApiClient | None) -> QuerySet[Invoice]:
    """Issued (and discarded) invoices with their lines; a client sees those billing its channel's orders."""
    invoices = (
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .select_related("customer")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related("order", "product").order_by("position", "pk"))
        )
    )
    if client is not None:
        billed = InvoiceLine.objects.filter(invoice=OuterRef("pk"), order__channel=client.channel)
        invoices = invoices.filter(Exists(billed))
    return invoices

"""What a web shop reads: products with free stock per warehouse, customers, shipments with waybills and
tracking links, invoices and their PDF; a client sees its own channel only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api.tests.conftest import order_body
from billing.models import Invoice, InvoiceLine
from inventory.tests.factories import WarehouseFactory, stock_put
from logistics.tests.factories import packed_shipment, ship
from orders.models import Channel, SalesOrder

pytestmark = pytest.mark.django_db


def test_products_carry_free_stock_per_warehouse(shop, tea, cup):
    beijing = WarehouseFactory(code="BJ1", name="北京仓")
    stock_put(product=tea, warehouse=beijing, quantity=7)

    response = shop.get("/api/v1/products/?sku=TEA-LJ-250")

    product = response.json()["results"][0]
    assert product["sku"] == "TEA-LJ-250" and product["list_price"] == "268.00"
    assert product["available"] == 57
    assert sorted((row["warehouse"], row["available"]) for row in product["stock"]) == [("BJ1", 7), ("SH1", 50)]
    assert [p["sku"] for p in shop.get("/api/v1/products/?q=茶杯").json()["results"]] == ["CUP-01"]


def test_a_client_sees_the_customers_its_channel_knows(shop, tea, customer):
    assert shop.get("/api/v1/customers/").json()["results"] == []
    assert shop.get(f"/api/v1/customers/{customer.code}/").status_code == 404

    created = shop.post("/api/v1/orders/", order_body(), format="json").json()["customer"]["code"]

    listed = shop.get("/api/v1/customers/").json()["results"]
    assert [c["code"] for c in listed] == [created]
    assert shop.get("/api/v1/customers/?external_id=shop-cust-1").json()["results"][0]["code"] == created
    assert shop.get(f"/api/v1/customers/{created}/").json()["email"] == "zhang@example.com"


@pytest.fixture
def shipped(shop, tea, customer, make_user, django_capture_on_commit_callbacks):
    """A web shop order, checked, allocated and shipped in one parcel."""
    with django_capture_on_commit_callbacks(execute=True):
        number = shop.post("/api/v1/orders/", order_body(customer={"code": customer.code}), format="json").json()["number"]
    order = SalesOrder.objects.get(number=number)
    assert order.status == "allocated"
    clerk = make_user("warehouse")
    shipment = packed_shipment(order=order, warehouse=tea.stock_levels.get().warehouse, by=clerk)
    return ship(shipment, by=clerk, waybills=["SF1234567890"])


def test_an_order_shows_its_shipment_with_carrier_waybill_and_tracking_link(shop, shipped):
    body = shop.get(f"/api/v1/orders/{shipped.order.number}/").json()

    assert body["status"] == "shipped"
    assert body["lines"][0]["quantity_shipped"] == 2
    (shipment,) = body["shipments"]
    assert shipment["number"] == shipped.number and shipment["state"] == "shipped"
    assert shipment["carrier"]["code"] == "shunfeng"
    (parcel,) = shipment["parcels"]
    assert parcel["waybill_number"] == "SF1234567890" and "SF1234567890" in parcel["tracking_url"]
    assert body["tracking_url"] is None or body["tracking_url"].startswith("http")


def test_shipments_list_and_read_for_the_clients_channel_only(shop, shipped):
    assert [s["number"] for s in shop.get("/api/v1/shipments/").json()["results"]] == [shipped.number]
    assert shop.get(f"/api/v1/shipments/?order={shipped.order.number}").json()["results"][0]["order"] == shipped.order.number
    assert shop.get(f"/api/v1/shipments/{shipped.number}/").status_code == 200

    SalesOrder.objects.filter(pk=shipped.order_id).update(channel=Channel.PHONE)
    assert shop.get("/api/v1/shipments/").json()["results"] == []
    assert shop.get(f"/api/v1/shipments/{shipped.number}/").status_code == 404


def _issued_invoice(order: SalesOrder, *, pdf: str = "") -> Invoice:
    """An issued invoice for the order's first line, written straight to the tables (issuing is billing's)."""
    line = order.lines.get()
    invoice = Invoice.objects.create(
        customer=order.customer,
        buyer_name=order.customer.name,
        total_net=line.line_net,
        total_tax=line.line_tax,
        total_gross=line.line_total,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        order=order,
        order_line=line,
        product=line.product,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax_rate=Decimal("0.13"),
        net=line.line_net,
        tax=line.line_tax,
        gross=line.line_total,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET status = 'issued', number = %s, issued_at = %s, pdf = %s WHERE id = %s",
            [f"INV-2026-{invoice.pk:06d}", timezone.now(), pdf, invoice.pk],
        )
    return Invoice.objects.get(pk=invoice.pk)


def test_invoices_and_their_stored_pdf(shop, shipped, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = default_storage.save("invoices/test.pdf", ContentFile(b"%PDF-1.7 stored at issue"))
    invoice = _issued_invoice(shipped.order, pdf=path)
    without_pdf = _issued_invoice(shipped.order)

    listed = shop.get(f"/api/v1/invoices/?order={shipped.order.number}").json()["results"]
    assert {i["number"] for i in listed} == {invoice.number, without_pdf.number}
    body = shop.get(f"/api/v1/invoices/{invoice.number}/").json()
    assert body["total_gross"] == str(invoice.total_gross) and body["lines"][0]["order"] == shipped.order.number
    assert body["payment_state"] == "unpaid" and body["pdf_url"].endswith(f"/api/v1/invoices/{invoice.number}/pdf/")

    pdf = shop.get(f"/api/v1/invoices/{invoice.number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content) == b"%PDF-1.7 stored at issue"
    missing = shop.get(f"/api/v1/invoices/{without_pdf.number}/pdf/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_invoices_need_their_scope_and_stay_in_the_channel(make_client, shop, shipped):
    invoice = _issued_invoice(shipped.order)
    _client, token = make_client(scopes=["orders:read"])
    orders_only = APIClient()
    orders_only.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert orders_only.get("/api/v1/invoices/").status_code == 403

    _other, other_token = make_client(channel=Channel.MARKETPLACE)
    marketplace = APIClient()
    marketplace.credentials(HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert marketplace.get("/api/v1/invoices/").json()["results"] == []
    assert marketplace.get(f"/api/v1/invoices/{invoice.number}/").status_code == 404

"""Orders pushed in through the API: created and submitted in one call, read back, listed, cancelled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.models import ChannelCustomer
from api.tests.conftest import order_body
from customers.models import Customer
from orders.models import Channel, OrderEvent, SalesOrder

pytestmark = pytest.mark.django_db


def test_a_pushed_order_is_created_submitted_and_checked_like_a_browser_order(shop, tea, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox's after-commit dispatch: the checks
        response = shop.post("/api/v1/orders/", order_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    order = SalesOrder.objects.get(number=body["number"])
    assert body["status"] == "submitted"  # the automatic checks run after commit
    assert order.channel == Channel.WEB_SHOP and order.external_ref == "WS-1001"
    assert order.status in ("approved", "allocated", "in_review", "backordered")  # the checks ran (eager outbox)
    assert order.created_by == shop.api_client.user
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.discount_percent) == (2, Decimal("268.00"), Decimal("5.00"))
    assert body["lines"][0]["sku"] == "TEA-LJ-250" and body["lines"][0]["quantity_shipped"] == 0
    assert body["total"] == str(order.total)
    assert body["customer"]["name"] == "张三"
    assert body["requested_date"] == "2030-01-15"
    assert body["shipments"] == [] and body["payment_status"] == ""
    submitted = order.events.get(kind=OrderEvent.Kind.TRANSITION, to_state="submitted")
    assert submitted.actor_kind == "channel" and submitted.actor_label == shop.api_client.name


def test_the_channels_customer_id_finds_the_same_customer_next_time(shop, tea):
    first = shop.post("/api/v1/orders/", order_body(), format="json")
    second = shop.post("/api/v1/orders/", order_body(external_ref="WS-1002"), format="json")

    assert first.status_code == second.status_code == 201
    assert first.json()["customer"]["code"] == second.json()["customer"]["code"]
    assert Customer.objects.filter(name="张三").count() == 1
    assert ChannelCustomer.objects.get(channel=Channel.WEB_SHOP, external_id="shop-cust-1").customer.email == "zhang@example.com"
    # the same address sent again is the customer's same address
    assert Customer.objects.get(name="张三").addresses.count() == 1


def test_an_existing_customer_by_code_with_its_default_address_and_a_barcode_line(shop, tea, customer):
    body = order_body(customer={"code": customer.code}, lines=[{"barcode": "6901234567892", "quantity": 1}])
    del body["shipping_address"]

    response = shop.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201, response.json()
    order = SalesOrder.objects.get(number=response.json()["number"])
    assert order.customer == customer and order.shipping_address == customer.addresses.get()
    assert order.lines.get().unit_price == Decimal("268.00")  # the list price when none is sent


def test_the_same_external_ref_without_a_key_never_makes_a_second_order(shop, tea):
    first = shop.post("/api/v1/orders/", order_body(), format="json")
    again = shop.post("/api/v1/orders/", order_body(), format="json")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_external_ref"
    assert again.json()["error"]["params"] == {"number": first.json()["number"]}
    assert SalesOrder.objects.filter(external_ref="WS-1001").count() == 1


def test_another_channel_may_use_the_same_reference(shop, make_client, tea):
    from rest_framework.test import APIClient

    _client, token = make_client(channel=Channel.MARKETPLACE)
    marketplace = APIClient()
    marketplace.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert shop.post("/api/v1/orders/", order_body(), format="json").status_code == 201
    assert marketplace.post("/api/v1/orders/", order_body(), format="json").status_code == 201
    assert set(SalesOrder.objects.values_list("channel", flat=True)) == {Channel.WEB_SHOP, Channel.MARKETPLACE}


def test_unknown_products_and_prices_below_the_floor_are_refused_per_line(shop, tea, cup):
    cup.min_price = Decimal("25.00")
    cup.save()
    body = order_body(
        lines=[
            {"sku": "TEA-LJ-250", "quantity": 1},
            {"sku": "NOPE", "quantity": 1},
            {"sku": "CUP-01", "quantity": 1, "unit_price": "10.00"},
        ]
    )

    response = shop.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_lines"
    assert [(line["position"], line["field"]) for line in error["lines"]] == [(2, "sku"), (3, "unit_price")]
    assert not SalesOrder.objects.exists() and not Customer.objects.filter(name="张三").exists()  # nothing half-written


def test_an_unknown_customer_code_is_refused(shop, tea):
    response = shop.post("/api/v1/orders/", order_body(customer={"code": "C999999"}), format="json")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"customer.code": ["No customer has the code C999999."]}


def test_a_new_customer_without_an_address_is_refused(shop, tea):
    body = order_body()
    del body["shipping_address"]

    response = shop.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "address_required"
    assert not Customer.objects.exists()


def test_a_blocked_customers_order_is_refused_and_nothing_is_kept(shop, tea, customer):
    Customer.objects.filter(pk=customer.pk).update(is_blocked=True, blocked_reason="unpaid")

    response = shop.post("/api/v1/orders/", order_body(customer={"code": customer.code}), format="json")

    assert response.status_code == 422
    assert "blocked" in response.json()["error"]["message"]
    assert not SalesOrder.objects.exists()


def test_read_one_order_and_not_another_channels(shop, tea, make_user):
    number = shop.post("/api/v1/orders/", order_body(), format="json").json()["number"]

    response = shop.get(f"/api/v1/orders/{number}/")
    assert response.status_code == 200
    assert response.json()["number"] == number and response.json()["status"] != "draft"

    SalesOrder.objects.filter(number=number).update(channel=Channel.PHONE)
    hidden = shop.get(f"/api/v1/orders/{number}/")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


def test_the_list_pages_by_cursor_and_filters(shop, tea):
    numbers = [shop.post("/api/v1/orders/", order_body(external_ref=f"WS-{i}"), format="json").json()["number"] for i in range(3)]

    first = shop.get("/api/v1/orders/?page_size=2").json()
    second = shop.get(first["next"]).json()
    assert [o["number"] for o in first["results"] + second["results"]] == numbers
    assert second["next"] is None

    assert shop.get("/api/v1/orders/?external_ref=WS-1").json()["results"][0]["number"] == numbers[1]
    assert shop.get("/api/v1/orders/?status=cancelled").json()["results"] == []
    assert shop.get("/api/v1/orders/?updated_since=2999-01-01T00:00:00Z").json()["results"] == []
    assert len(shop.get("/api/v1/orders/?updated_since=2000-01-01T00:00:00Z").json()["results"]) == 3
    bad = shop.get("/api/v1/orders/?updated_since=yesterday&status=lost")
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"updated_since", "status"}


def test_cancel_an_order_then_cancelling_again_is_refused(shop, tea):
    number = shop.post("/api/v1/orders/", order_body(), format="json").json()["number"]

    response = shop.post(f"/api/v1/orders/{number}/cancel/", {"reason": "客户取消"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert SalesOrder.objects.get(number=number).events.filter(to_state="cancelled", note="客户取消").exists()

    again = shop.post(f"/api/v1/orders/{number}/cancel/", {"reason": "again"}, format="json")
    assert again.status_code == 422 and again.json()["error"]["code"] == "transition_not_allowed"

    missing_reason = shop.post(f"/api/v1/orders/{number}/cancel/", {}, format="json")
    assert missing_reason.status_code == 400 and "reason" in missing_reason.json()["error"]["fields"]

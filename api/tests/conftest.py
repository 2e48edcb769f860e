"""Fixtures of the API tests: clients with tokens, stocked products, a customer with an address."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from api.scopes import SCOPES
from api.services import api_client_create
from config.actors import Actor
from customers.tests.factories import AddressFactory, CustomerFactory
from inventory.tests.factories import WarehouseFactory, stocked_product
from orders.models import Channel


@pytest.fixture
def make_client(db):
    """make_client(scopes=[...], channel=..., rate=...) -> (ApiClient, token)."""
    counter = {"n": 0}

    def make(*, scopes=None, channel=Channel.WEB_SHOP, rate=1000, name=None):
        counter["n"] += 1
        return api_client_create(
            name=name or f"Shop {counter['n']}",
            channel=channel,
            scopes=list(SCOPES) if scopes is None else scopes,
            rate_limit_per_minute=rate,
            by=Actor.system("system"),
        )

    return make


@pytest.fixture
def shop(make_client):
    """A web shop client with every scope, and an HTTP client sending its token."""
    client, token = make_client()
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    http.api_client = client
    http.token = token
    return http


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SH1", name="上海仓")


@pytest.fixture
def tea(warehouse):
    return stocked_product(
        stock={warehouse: 50}, sku="TEA-LJ-250", name="龙井 250g", barcode="6901234567892", list_price=Decimal("268.00")
    )


@pytest.fixture
def cup(warehouse):
    return stocked_product(stock={warehouse: 10}, sku="CUP-01", name="茶杯", list_price=Decimal("30.00"))


@pytest.fixture
def customer(db):
    customer = CustomerFactory(credit_limit=Decimal("1000000"))
    AddressFactory(customer=customer, is_default=True)
    return customer


def order_body(**overrides) -> dict:
    body = {
        "external_ref": "WS-1001",
        "customer": {"external_id": "shop-cust-1", "name": "张三", "phone": "13800000000", "email": "zhang@example.com"},
        "shipping_address": {"recipient": "张三", "phone": "13800000000", "line1": "南京路 1 号", "city": "上海"},
        "lines": [{"sku": "TEA-LJ-250", "quantity": 2, "unit_price": "268.00", "discount_percent": "5"}],
        "requested_date": "2030-01-15",
        "notes": "请周末送货",
    }
    body.update(overrides)
    return body

"""Who may call: a client by its token and scopes, staff by session and role; every refusal is JSON."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from api.models import ApiClient
from api.services import api_client_revoke, token_digest
from api.tests.conftest import order_body
from config.actors import Actor
from orders.models import Channel, SalesOrder

pytestmark = pytest.mark.django_db


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_no_token_is_401_with_a_bearer_challenge(db):
    response = APIClient().get("/api/v1/orders/")

    assert response.status_code == 401
    assert _error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer wrong-token", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_a_wrong_or_malformed_token_is_401(shop, header):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))

    response = http.get("/api/v1/orders/")

    assert response.status_code == 401 and _error(response)["code"] == "not_authenticated"


def test_a_revoked_token_is_401_at_once(shop):
    assert shop.get("/api/v1/orders/").status_code == 200
    api_client_revoke(client=shop.api_client, by=Actor.system("system"))

    response = shop.get("/api/v1/orders/")

    assert response.status_code == 401 and _error(response)["code"] == "token_revoked"


def test_a_missing_scope_is_403(make_client, tea):
    _client, token = make_client(scopes=["orders:read"])
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert http.get("/api/v1/orders/").status_code == 200
    refused = http.post("/api/v1/orders/", order_body(), format="json")
    assert refused.status_code == 403 and _error(refused)["code"] == "permission_denied"
    assert http.get("/api/v1/products/").status_code == 403
    assert not SalesOrder.objects.exists()


def test_only_the_hash_of_the_token_is_stored_and_last_use_is_recorded(shop):
    client = ApiClient.objects.get(pk=shop.api_client.pk)
    assert client.token_hash == token_digest(shop.token) and shop.token not in (client.token_hash, client.token_prefix)
    assert len(shop.token) >= 43  # 32 random bytes
    assert client.last_used_at is None

    shop.get("/api/v1/products/")

    assert ApiClient.objects.get(pk=client.pk).last_used_at is not None


def test_staff_use_the_same_endpoints_with_their_session_and_roles(client_as, tea, customer):
    sales = client_as("sales")
    body = order_body(customer={"code": customer.code}, external_ref="PHONE-1")

    response = sales.post("/api/v1/orders/", body, content_type="application/json")

    assert response.status_code == 201, response.json()
    order = SalesOrder.objects.get(number=response.json()["number"])
    assert order.created_by == sales.user and order.channel == Channel.API
    assert sales.get("/api/v1/orders/").status_code == 200


def test_a_role_without_the_permission_is_refused(client_as, tea):
    warehouse = client_as("warehouse")

    assert warehouse.post("/api/v1/orders/", order_body(), content_type="application/json").status_code == 403
    assert warehouse.get("/api/v1/customers/").status_code == 200  # warehouse staff read the catalogue and customers
    assert client_as().get("/api/v1/orders/").status_code == 403  # a user with no role


def test_session_writes_need_the_csrf_token(make_user, tea, customer):
    http = APIClient(enforce_csrf_checks=True)
    http.force_login(make_user("sales"))

    response = http.post("/api/v1/orders/", order_body(customer={"code": customer.code}), format="json")

    assert response.status_code == 403 and "CSRF" in _error(response)["message"]


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(make_client):
    cache.clear()
    _client, token = make_client(rate=3)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    statuses = [http.get("/api/v1/products/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = http.get("/api/v1/products/")
    assert _error(refused)["code"] == "rate_limited" and int(refused["Retry-After"]) >= 1
    cache.clear()


def test_the_command_creates_a_client_and_prints_its_token_once(capsys):
    call_command("create_api_client", "Tmall shop", "--channel", "marketplace", "--scopes", "orders:write", "orders:read")

    token = capsys.readouterr().out.strip()
    client = ApiClient.objects.get(name="Tmall shop")
    assert client.channel == Channel.MARKETPLACE and client.scopes == ["orders:write", "orders:read"]
    assert client.token_hash == token_digest(token)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get("/api/v1/orders/").status_code == 200
    assert not client.user.is_active and not client.user.has_usable_password()  # its account cannot sign in

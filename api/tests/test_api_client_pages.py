"""The manager's API client pages: create (token shown once), list, revoke with confirmation; others are refused."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiClient
from api.services import token_digest
from api.tests.conftest import order_body
from tests.submissions import token_in, with_token

pytestmark = pytest.mark.django_db

FORM = {"name": "天猫旗舰店", "channel": "marketplace", "scopes": ["orders:write", "orders:read"], "rate_limit_per_minute": "60"}


def _token_on(page) -> str:
    match = re.search(r'<code class="token">([^<]+)</code>', page.content.decode())
    assert match, "the page shows no token"
    return match.group(1)


def test_a_manager_creates_a_client_and_sees_its_token_once(client_as):
    manager = client_as("manager")
    form = manager.get(reverse("api:client_create"))

    created = manager.post(reverse("api:client_create"), with_token(FORM, token_in(form)), follow=True)

    client = ApiClient.objects.get(name="天猫旗舰店")
    token = _token_on(created)
    assert client.token_hash == token_digest(token) and client.channel == "marketplace"
    assert client.scopes == ["orders:write", "orders:read"] and client.rate_limit_per_minute == 60
    again = manager.get(reverse("api:client_detail", args=[client.pk]))
    assert token not in again.content.decode() and client.token_prefix in again.content.decode()
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get("/api/v1/orders/").status_code == 200


def test_a_double_submit_creates_one_client(client_as):
    manager = client_as("manager")
    data = with_token(FORM)

    manager.post(reverse("api:client_create"), data)
    manager.post(reverse("api:client_create"), data)

    assert ApiClient.objects.filter(name="天猫旗舰店").count() == 1


def test_a_taken_name_and_no_scope_are_form_errors(client_as, make_client):
    make_client(name="Web shop")
    manager = client_as("manager")

    response = manager.post(reverse("api:client_create"), with_token({**FORM, "name": "web shop", "scopes": []}))

    assert response.status_code == 400
    assert ApiClient.objects.count() == 1


def test_revoking_asks_first_then_the_token_stops_working(client_as, shop):
    manager = client_as("manager")
    url = reverse("api:client_revoke", args=[shop.api_client.pk])

    confirm = manager.get(url)
    assert confirm.status_code == 200 and "401" in confirm.content.decode()
    assert shop.get("/api/v1/orders/").status_code == 200

    manager.post(url, with_token())

    assert ApiClient.objects.get(pk=shop.api_client.pk).revoked_at is not None
    assert shop.get("/api/v1/orders/").status_code == 401


def test_the_list_searches_and_filters(client_as, make_client):
    make_client(name="Alpha storefront")
    revoked, _token = make_client(name="Beta marketplace")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    manager = client_as("manager")

    assert "Alpha storefront" in manager.get(reverse("api:client_list")).content.decode()
    active = manager.get(reverse("api:client_list") + "?state=active").content.decode()
    assert "Alpha storefront" in active and "Beta marketplace" not in active
    found = manager.get(reverse("api:client_list") + "?q=beta").content.decode()
    assert "Beta marketplace" in found and "Alpha storefront" not in found


def test_the_empty_list_invites_to_create_one(client_as):
    page = client_as("manager").get(reverse("api:client_list")).content.decode()
    assert reverse("api:client_create") in page


@pytest.mark.parametrize("role", ["sales", "reviewer", "warehouse", "finance"])
def test_other_roles_may_not_open_or_use_the_pages(client_as, shop, role):
    user = client_as(role)
    assert user.get(reverse("api:client_list")).status_code == 403
    assert user.get(reverse("api:client_create")).status_code == 403
    assert user.post(reverse("api:client_revoke", args=[shop.api_client.pk]), with_token()).status_code == 403
    assert ApiClient.objects.get(pk=shop.api_client.pk).revoked_at is None


def test_the_pages_read_in_chinese(client_as, shop):
    manager = client_as("manager")
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    assert "接口客户端" in manager.get(reverse("api:client_list")).content.decode()
    assert "撤销令牌" in manager.get(reverse("api:client_detail", args=[shop.api_client.pk])).content.decode()


def test_the_order_page_shows_channel_and_external_ref_and_the_list_finds_it(client_as, shop, tea):
    number = shop.post("/api/v1/orders/", order_body(external_ref="WS-77001"), format="json").json()["number"]
    manager = client_as("manager")

    found = manager.get(reverse("orders:list") + "?q=WS-77001").content.decode()
    assert number in found
    order_page = manager.get(reverse("orders:detail", args=[ApiClient.objects.get().user.orders_entered.get().pk]))
    assert "WS-77001" in order_page.content.decode() and "Web shop" in order_page.content.decode()

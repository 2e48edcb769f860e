"""Every refusal is one JSON shape, and no body, however broken, makes a server error."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from api.tests.conftest import order_body
from orders.models import SalesOrder

pytestmark = pytest.mark.django_db


def _post(shop, raw, content_type="application/json"):
    return shop.generic("POST", "/api/v1/orders/", raw, content_type=content_type)


def _shape(response) -> dict:
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields", "lines"}
    assert isinstance(error["fields"], dict) and isinstance(error["lines"], list)
    return error


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "[]",
        "null",
        '"text"',
        "12",
        '{"external_ref": null, "customer": null, "lines": null}',
        '{"external_ref": ["x"], "customer": [], "lines": {}}',
        '{"external_ref": "A", "customer": {"code": 5}, "lines": [{"sku": "TEA-LJ-250", "quantity": 1e999}]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [{"sku": "T", "quantity": 99999999999999999999999}]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [{"sku": "T", "quantity": 1, "unit_price": "1e400"}]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [{"sku": "T", "quantity": 1, "unit_price": "NaN"}]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [{"sku": "T", "quantity": true}]}',
        '{"external_ref": "A\\u0000", "customer": {"code": "C1"}, "lines": [{"sku": "TEA\\u0000", "quantity": 1}]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [[1, 2]]}',
        '{"external_ref": "A", "customer": {"code": "C1"}, "lines": [{"quantity": 1}]}',
        "9" * 5000,
    ],
)
def test_broken_bodies_answer_400_in_the_one_shape(shop, tea, raw):
    response = _post(shop, raw)

    assert response.status_code == 400, response.content
    assert _shape(response)["code"] in ("invalid", "malformed_request")
    assert not SalesOrder.objects.exists()


def test_field_errors_are_dotted_and_line_errors_carry_their_position(shop, tea):
    body = order_body(
        customer={"email": "not-an-email"}, lines=[{"sku": "TEA-LJ-250", "quantity": 1}, {"sku": "TEA-LJ-250", "quantity": 0}]
    )

    error = _shape(_post(shop, json.dumps(body)))

    assert "customer.email" in error["fields"]
    assert error["lines"] == [{"position": 2, "field": "quantity", "message": "Ensure this value is greater than or equal to 1."}]


def test_a_body_that_is_not_json_is_415(shop):
    response = _post(shop, "a=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415 and _shape(response)["code"] == "unsupported_media_type"


def test_a_wrong_method_is_405_and_an_unknown_path_404(shop):
    assert _shape(shop.delete("/api/v1/orders/"))["code"] == "method_not_allowed"
    assert shop.delete("/api/v1/orders/").status_code == 405
    unknown = shop.get("/api/v1/nothing-here/")
    assert unknown.status_code == 404 and _shape(unknown)["code"] == "not_found"
    odd = shop.get("/api/v1/orders/SO%00/")
    assert odd.status_code == 404 and _shape(odd)["code"] == "not_found"


def test_errors_are_worded_in_the_requests_language(shop, tea):
    response = shop.post(
        "/api/v1/orders/", order_body(customer={"code": "C999999"}), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.json()["error"]["message"] == "没有编码为 C999999 的客户。"


def test_a_nul_in_the_query_string_and_an_oversized_body_answer_in_the_one_shape(shop):
    nul = shop.get("/api/v1/products/?q=a%00b")
    assert nul.status_code == 400 and _shape(nul)["code"] == "invalid"

    huge = shop.generic("POST", "/api/v1/orders/", "{}", content_type="application/json", CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert huge.status_code == 413 and _shape(huge)["code"] == "too_large"


def test_a_post_to_a_wrong_address_is_a_json_404_not_a_csrf_page(shop):
    strict = APIClient(enforce_csrf_checks=True)  # as a real client: Django's CSRF check is not switched off
    strict.credentials(HTTP_AUTHORIZATION=f"Bearer {shop.token}")

    response = strict.post("/api/v1/orders/%C3%A9/cancel/", {}, format="json")

    assert response.status_code == 404 and _shape(response)["code"] == "not_found"


@pytest.mark.parametrize("since", ["0067-08-19T15:10:23.16-22:06", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_times_with_extreme_offsets_are_read_as_utc_or_refused_never_a_server_error(shop, since):
    response = shop.get("/api/v1/products/", {"updated_since": since})

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "updated_since" in _shape(response)["fields"]

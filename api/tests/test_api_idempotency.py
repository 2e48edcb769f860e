"""Exactly once: an Idempotency-Key replays the first answer; the same key sent by many at once makes one order."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from api.models import IdempotencyKey
from api.services import idempotency_keys_delete_expired
from api.tests.conftest import order_body
from orders.models import SalesOrder
from tests.concurrency import run_together


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_answer_and_creates_nothing(shop, tea):
    first = shop.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = shop.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_422(shop, tea):
    shop.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = shop.post("/api/v1/orders/", order_body(external_ref="WS-9"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_keys_belong_to_their_client(shop, make_client, tea):
    from rest_framework.test import APIClient

    refused = shop.post(
        "/api/v1/orders/", order_body(lines=[{"sku": "NOPE", "quantity": 1}]), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    again = shop.post(
        "/api/v1/orders/", order_body(lines=[{"sku": "NOPE", "quantity": 1}]), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert refused.status_code == again.status_code == 422 and again.json() == refused.json()

    _other, token = make_client()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert other.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 201


@pytest.mark.django_db
def test_the_same_json_with_other_spacing_or_key_order_is_the_same_request(shop, tea):
    first = shop.post(
        "/api/v1/orders/",
        '{"external_ref": "WS-1", "customer": {"code": "X"}, "lines": []}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-4",
    )
    again = shop.post(
        "/api/v1/orders/",
        '{"lines":[],"customer":{"code":"X"},"external_ref":"WS-1"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-4",
    )

    assert first.status_code == 400 and again.status_code == 400 and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_malformed_key_is_refused(shop, tea):
    response = shop.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="has space")

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_keys_are_kept_a_day_at_least(shop, tea, settings):
    shop.post("/api/v1/orders/", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="old")
    shop.post("/api/v1/orders/", order_body(external_ref="WS-2"), format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    IdempotencyKey.objects.filter(key="new").update(created_at=timezone.now() - timedelta(hours=23))
    settings.API_IDEMPOTENCY_KEEP_HOURS = 1  # asked for less than a day: a day is kept anyway

    assert idempotency_keys_delete_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def _post_with_key(token: str, key: str, body: dict, results: list) -> None:
    client = Client()
    response = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=key
    )
    results.append((response.status_code, response.content))


@pytest.mark.django_db(transaction=True)
def test_ten_threads_with_the_same_key_make_one_order_and_get_ten_identical_answers(make_client, tea):
    _client, token = make_client()
    results: list = []

    errors = run_together([lambda: _post_with_key(token, "same-key", order_body(), results) for _ in range(10)])

    assert errors == []
    assert SalesOrder.objects.count() == 1
    assert [status for status, _body in results] == [201] * 10
    assert len({body for _status, body in results}) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_threads_with_the_same_reference_and_no_key_make_one_order(make_client, tea):
    _client, token = make_client()
    results: list = []

    def push():
        response = Client().post(
            "/api/v1/orders/", order_body(), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        results.append(response.status_code)

    errors = run_together([push for _ in range(10)])

    assert errors == []
    assert SalesOrder.objects.count() == 1
    assert sorted(results) == [201] + [409] * 9


@pytest.mark.django_db(transaction=True)
def test_a_key_still_in_flight_answers_409_after_a_short_wait(make_client, tea, settings):
    """The first request holds its key's row (uncommitted); a retry gives up after the wait with 409."""
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 0.5
    client, token = make_client()
    holding, release = threading.Event(), threading.Event()

    def first_request_still_running():
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    client=client,
                    key="slow",
                    method="POST",
                    path="/api/v1/orders/",
                    request_hash="x",
                    response_status=0,
                    response_body="",
                )
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=first_request_still_running)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        results: list = []
        _post_with_key(token, "slow", order_body(), results)
    finally:
        release.set()
        holder.join(timeout=30)

    status, body = results[0]
    assert status == 409 and b"idempotency_key_in_flight" in body
    assert not SalesOrder.objects.exists()

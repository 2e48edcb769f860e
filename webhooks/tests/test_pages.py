"""The managers' webhook pages: register, edit, disable and enable, rotate the secret, delete; the
delivery log with its filters, one delivery's attempts, replays; who may see and do what."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from config.navigation import navigation_for
from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from tests.submissions import with_token
from webhooks.delivery import webhooks_deliver_due
from webhooks.models import DisabledReason, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.tests.receiver import verify_signature
from webhooks.topics import TOPICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def some_deliveries(receiver, endpoint, statuses):
    """Two orders' events (four deliveries) sent to the receiver, answered with `statuses` in turn."""
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 20})
    receiver.statuses = list(statuses)
    for _ in range(2):
        approved_order(lines=[(product, 1)])
    outbox_dispatch()
    webhooks_deliver_due()


def test_a_manager_registers_an_endpoint_and_sees_its_secret(as_manager, receiver):
    page = as_manager.get(reverse("webhooks:endpoint_create"))
    assert page.status_code == 200 and "order.shipped" in page.content.decode()
    data = with_token(
        {"url": receiver.url, "description": "Web shop", "topics": ["order.created", "order.shipped"], "enabled": "on"}
    )
    response = as_manager.post(reverse("webhooks:endpoint_create"), data)
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == endpoint.get_absolute_url()
    assert endpoint.topics == ["order.created", "order.shipped"] and endpoint.is_active
    assert endpoint.secret.startswith("whsec_")
    detail = as_manager.get(endpoint.get_absolute_url()).content.decode()
    assert endpoint.secret in detail and "Web shop" in detail
    again = as_manager.post(reverse("webhooks:endpoint_create"), data)  # the same form sent twice
    assert again.status_code == 302 and WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://shop.example.com/hooks", "https://"),
        ("not a url", "Enter a valid URL"),
    ],
)
def test_a_url_that_may_not_receive_webhooks_is_a_form_error(as_manager, url, message):
    response = as_manager.post(reverse("webhooks:endpoint_create"), with_token({"url": url, "topics": ["order.created"]}))
    assert response.status_code == 422 and message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_no_topic_is_a_form_error(as_manager, receiver):
    response = as_manager.post(reverse("webhooks:endpoint_create"), with_token({"url": receiver.url}))
    assert response.status_code == 422 and not WebhookEndpoint.objects.exists()


def test_a_manager_edits_disables_enables_and_rotates_the_secret(as_manager, endpoint, receiver):
    edit = reverse("webhooks:endpoint_edit", args=[endpoint.pk])
    assert as_manager.get(edit).status_code == 200
    response = as_manager.post(edit, {"url": receiver.url + "/v2", "description": "new", "topics": ["stock.low"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url.endswith("/hooks/v2") and endpoint.topics == ["stock.low"]

    as_manager.post(reverse("webhooks:endpoint_disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == DisabledReason.MANAGER
    assert "Disabled by a manager" in as_manager.get(endpoint.get_absolute_url()).content.decode()
    as_manager.post(reverse("webhooks:endpoint_enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""

    rotate = reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk])
    assert "A new secret signs every request" in as_manager.get(rotate).content.decode()
    old = endpoint.secret
    assert as_manager.post(rotate, with_token()).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old and endpoint.previous_secret_until is not None


def test_after_a_rotation_both_secrets_sign_until_the_old_one_expires(as_manager, endpoint, receiver):
    old = endpoint.secret
    as_manager.post(reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk]), with_token())
    endpoint.refresh_from_db()
    some_deliveries(receiver, endpoint, [200] * 4)
    received = receiver.requests[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify_signature(secret=endpoint.secret, headers=received.headers, body=received.body)
    assert verify_signature(secret=old, headers=received.headers, body=received.body)


def test_deleting_an_endpoint_asks_first(as_manager, endpoint):
    url = reverse("webhooks:endpoint_delete", args=[endpoint.pk])
    page = as_manager.get(url).content.decode()
    assert "disable it instead" in page and WebhookEndpoint.objects.exists()
    response = as_manager.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("webhooks:endpoint_list")
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_filters_by_status_and_topic_and_shows_attempts(as_manager, endpoint, receiver):
    some_deliveries(receiver, endpoint, [200, 200, 400])
    listing = reverse("webhooks:delivery_list", args=[endpoint.pk])
    page = as_manager.get(listing).content.decode()
    assert page.count("order.created") >= 2 and "2 waiting" not in page
    failed = as_manager.get(listing, {"outcome": "failed"})
    assert failed.status_code == 200 and len(failed.context["page_obj"].object_list) == 1
    approved = as_manager.get(listing, {"type": "order.approved"})
    assert {d.type for d in approved.context["page_obj"].object_list} == {"order.approved"}
    assert as_manager.get(listing, {"outcome": "nonsense"}).status_code == 200
    number = WebhookDelivery.objects.first().aggregate_id
    about = as_manager.get(listing, {"subject": f" {number.lower()} "}).context["page_obj"].object_list
    assert len(about) == 2 and {d.aggregate_id for d in about} == {number}
    delivery = WebhookDelivery.objects.get(failed_at__isnull=False)
    detail = as_manager.get(delivery.get_absolute_url()).content.decode()
    assert str(delivery.message_id) in detail and "400" in detail and delivery.message.body[:40].replace('"', "&quot;") in detail


def test_a_manager_replays_one_and_all_failed(as_manager, endpoint, receiver):
    some_deliveries(receiver, endpoint, [410, 200, 410])
    failed = list(WebhookDelivery.objects.filter(failed_at__isnull=False))
    assert len(failed) == 2
    response = as_manager.post(reverse("webhooks:delivery_replay", args=[failed[0].pk]))
    assert response.status_code == 302
    failed[0].refresh_from_db()
    assert failed[0].failed_at is None  # pending again (sent by the next run)
    confirm = reverse("webhooks:endpoint_replay_failed", args=[endpoint.pk])
    assert "sent again" in as_manager.get(confirm).content.decode()
    as_manager.post(confirm)
    assert not WebhookDelivery.objects.filter(failed_at__isnull=False).exists()
    webhooks_deliver_due()
    assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == 0


@pytest.mark.parametrize("role", ["sales", "warehouse", "finance", "reviewer"])
def test_other_roles_may_not_see_or_touch_webhooks(client_as, endpoint, role):
    client = client_as(role)
    delivery_urls = [reverse("webhooks:delivery_list", args=[endpoint.pk])]
    for url in [
        reverse("webhooks:endpoint_list"),
        reverse("webhooks:endpoint_create"),
        endpoint.get_absolute_url(),
        *delivery_urls,
    ]:
        assert client.get(url).status_code == 403
    for name in ["endpoint_disable", "endpoint_delete", "endpoint_rotate_secret", "endpoint_replay_failed"]:
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.get().is_active
    assert all(item["url_name"] != "webhooks:endpoint_list" for item in navigation_for(client.user, "/"))


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("webhooks:endpoint_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_managers_find_webhooks_in_the_settings_menu(manager):
    assert any(item["url_name"] == "webhooks:endpoint_list" for item in navigation_for(manager, "/"))


def test_the_list_paginates_and_searches(as_manager, manager):
    for i in range(27):
        endpoint_create(url=f"https://203.0.113.{i + 1}/hooks", topics=TOPICS, by=manager, description=f"shop {i}")
    first = as_manager.get(reverse("webhooks:endpoint_list"))
    assert len(first.context["page_obj"].object_list) == 25 and first.context["page_obj"].has_next()
    found = as_manager.get(reverse("webhooks:endpoint_list"), {"q": "203.0.113.7/"})
    assert [e.url for e in found.context["page_obj"].object_list] == ["https://203.0.113.7/hooks"]
    empty = as_manager.get(reverse("webhooks:endpoint_list"), {"q": "nothing like this"})
    assert "No endpoint matches these filters." in empty.content.decode()


def test_the_pages_speak_chinese(as_manager, endpoint, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        page = as_manager.get(reverse("webhooks:endpoint_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        detail = as_manager.get(endpoint.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Webhook 端点" in page or "新建端点" in page
    assert "签名密钥" in detail and "轮换密钥" in detail

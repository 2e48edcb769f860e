"""SSRF: webhooks go only to the registered URL, never to link-local or metadata addresses, to loopback
or private networks only when a setting allows it; checked at registration and before every request,
and the request goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from config.errors import DomainError
from config.outbox import OutboxEvent
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from webhooks.addresses import AddressRefused, address_refusal, webhook_target
from webhooks.delivery import webhooks_deliver_due
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_enable, webhook_event_record
from webhooks.topics import TOPICS

ALWAYS_REFUSED = [
    "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/hook",
    "https://100.100.100.200/latest/meta-data/",
    "https://[fd00:ec2::254]/",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
]
PRIVATE = [
    "https://100.64.1.1/hook",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://10.1.2.3/hook",
    "https://192.168.1.20/",
]


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_link_local_and_metadata_addresses_are_refused_even_with_private_networks_allowed(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    with pytest.raises(AddressRefused):
        webhook_target(url)


@pytest.mark.parametrize("url", PRIVATE)
def test_loopback_and_private_addresses_need_the_setting(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(AddressRefused, match="private"):
        webhook_target(url)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert webhook_target(url).scheme == "https"


def test_a_public_address_is_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    assert address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert address_refusal(ipaddress.ip_address("2606:2800:220:1::")) is None


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/x", "ftp://203.0.113.5/x", "https://user:pw@203.0.113.5/x", "https:///nohost", "https://[::1"],
)
def test_plain_http_credentials_and_broken_urls_are_refused(settings, url):
    settings.WEBHOOKS_HTTP_HOSTS = []
    with pytest.raises(AddressRefused):
        webhook_target(url)


def test_a_host_name_is_refused_when_any_address_it_resolves_to_is_not_allowed(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(AddressRefused, match="10.0.0.7"):
        webhook_target("https://shop.example.com/hooks")


def test_an_unknown_host_is_refused_with_a_clear_message(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(AddressRefused, match="could not be found"):
        webhook_target("https://nowhere.example.com/hooks")


@pytest.mark.django_db
def test_registration_refuses_the_metadata_address_and_loopback(settings, manager):
    with pytest.raises(DomainError) as refused:
        endpoint_create(url="https://169.254.169.254/latest", topics=TOPICS, by=manager)
    assert refused.value.field == "url"
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    for url in ("https://127.0.0.1/hooks", "https://[::1]/hooks"):
        with pytest.raises(DomainError):
            endpoint_create(url=url, topics=TOPICS, by=manager)
    assert not WebhookEndpoint.objects.exists()


def _one_event():
    """An order event recorded for every endpoint (the outbox event itself, dispatched by hand)."""
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 5})
    approved_order(lines=[(product, 1)])
    webhook_event_record(event=OutboxEvent.objects.get(topic="orders.salesorder.submit"))


@pytest.mark.django_db
def test_a_host_that_now_resolves_to_a_private_address_gets_nothing(settings, monkeypatch, manager, receiver):
    """DNS rebinding: registered while it named a public address, the host now names this machine."""
    settings.WEBHOOKS_HTTP_HOSTS = ["127.0.0.1", "shop.example.com"]
    port = int(receiver.url.split(":")[2].split("/")[0])
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: public)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    endpoint_create(url=f"http://shop.example.com:{port}/hooks", topics=TOPICS, by=manager)
    _one_event()
    rebound = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: rebound)
    webhooks_deliver_due()
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.error == WebhookAttempt.Error.ADDRESS and "127.0.0.1" in attempt.error_detail
    assert WebhookDelivery.objects.get().delivered_at is None  # kept and retried: the DNS may be fixed


@pytest.mark.django_db
def test_the_request_goes_to_the_checked_address_with_the_registered_host_name(settings, monkeypatch, manager, receiver):
    settings.WEBHOOKS_HTTP_HOSTS = ["shop.example.com"]
    port = int(receiver.url.split(":")[2].split("/")[0])
    calls = []

    def resolver(host, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    endpoint_create(url=f"http://shop.example.com:{port}/hooks?shop=1", topics=TOPICS, by=manager)
    _one_event()
    calls.clear()
    webhooks_deliver_due()
    # Resolved once, by the check; the connection went to the address it found (given as an IP).
    assert [host for host in calls if host != "127.0.0.1"] == ["shop.example.com"]
    (received,) = receiver.requests
    assert received.headers["host"] == f"shop.example.com:{port}"
    assert received.path == "/hooks?shop=1"


@pytest.mark.django_db
def test_a_redirect_is_not_followed(manager, receiver):
    receiver.statuses = [302]
    endpoint_create(url=receiver.url, topics=TOPICS, by=manager)
    _one_event()
    webhooks_deliver_due()
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.failed_at is not None and delivery.last_status_code == 302


@pytest.mark.django_db
def test_an_endpoint_whose_url_is_no_longer_allowed_cannot_be_enabled(settings, manager):
    endpoint = endpoint_create(url="http://127.0.0.1:9/hooks", topics=TOPICS, by=manager, enabled=False)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(AddressRefused):
        endpoint_enable(endpoint=endpoint, by=manager)
    endpoint.refresh_from_db()
    assert not endpoint.is_active

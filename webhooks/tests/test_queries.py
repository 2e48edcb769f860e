"""The webhook pages and the sender cost the same SQL statements however many rows there are."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from tests.queries import assert_constant_queries, queries_for
from webhooks.delivery import webhooks_deliver_due
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create
from webhooks.topics import TOPICS

pytestmark = pytest.mark.django_db


def test_the_endpoint_list_costs_the_same_for_one_or_ten_endpoints(client, manager):
    client.force_login(manager)
    made = []

    def endpoints(n):
        while len(made) < n:
            made.append(endpoint_create(url=f"https://203.0.113.{len(made) + 1}/hooks", topics=TOPICS, by=manager))

    assert_constant_queries(endpoints, lambda: client.get(reverse("webhooks:endpoint_list")))


def test_the_delivery_log_and_a_delivery_cost_the_same_however_many_there_are(client, manager, endpoint, receiver):
    client.force_login(manager)
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 100})

    def events(n):
        while WebhookDelivery.objects.count() < n:
            approved_order(lines=[(product, 1)])
            outbox_dispatch()
        webhooks_deliver_due()

    assert_constant_queries(events, lambda: client.get(reverse("webhooks:delivery_list", args=[endpoint.pk])), sizes=(2, 12))
    delivery = WebhookDelivery.objects.first()
    assert queries_for(lambda: client.get(delivery.get_absolute_url())) <= 12


def test_sending_a_batch_costs_the_same_statements_whatever_its_size(manager, receiver):
    endpoint_create(url=receiver.url, topics=["order.created"], by=manager)  # one event per order: all go at once
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 100})
    counts = []
    for orders in (1, 20):
        for _ in range(orders):
            approved_order(lines=[(product, 1)])
        outbox_dispatch()
        counts.append(queries_for(webhooks_deliver_due))
        assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert counts[0] == counts[1], counts
    assert len(receiver.requests) == 21

"""A sender process killed in the middle of a request (OOM killer, deploy): the delivery it had
claimed is sent again, with the same id and body, once its lease runs out. Nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from config.outbox import outbox_dispatch
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from tests.workers import database_url
from webhooks import services
from webhooks.delivery import webhooks_deliver_due
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 15
SENDER = "import django; django.setup(); from webhooks.delivery import webhooks_deliver_due; webhooks_deliver_due()"


def test_a_sender_killed_mid_request_leaves_the_delivery_to_be_sent_again_with_the_same_id(monkeypatch, manager, receiver):
    monkeypatch.setattr(services, "_kick", lambda: None)  # only the process started below sends (beat's part)
    endpoint_create(url=receiver.url, topics=["order.created"], by=manager)
    product = stocked_product(stock={WarehouseFactory(code="SH", priority=1): 5})
    approved_order(lines=[(product, 1)])
    outbox_dispatch()
    delivery = WebhookDelivery.objects.get()

    receiver.hang.set()  # the receiver takes the request and does not answer
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TESTING": "1",
        "REDIS_URL": "",
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
        "WEBHOOKS_HTTP_HOSTS": "127.0.0.1",
        "WEBHOOKS_LEASE_SECONDS": str(LEASE_SECONDS),
        "WEBHOOKS_READ_TIMEOUT": "60",
    }
    sender = subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, env=env, start_new_session=True)
    try:
        assert receiver.arrived.wait(120), "the sender never sent"
        os.killpg(sender.pid, signal.SIGKILL)
    finally:
        sender.kill()
        sender.wait(30)
    receiver.hang.clear()
    receiver.release.set()

    delivery.refresh_from_db()
    assert delivery.delivered_at is None and delivery.attempts == 0 and not WebhookAttempt.objects.exists()
    assert delivery.leased_until is not None  # claimed by the dead sender
    if timezone.now() < delivery.leased_until - timedelta(seconds=3):  # (a very slow machine may be past it already)
        webhooks_deliver_due()
        assert len(receiver.requests) == 1  # not before its lease runs out

    while timezone.now() <= delivery.leased_until:
        time.sleep(0.2)
    webhooks_deliver_due()
    first, second = receiver.requests
    assert first.id == second.id == str(delivery.message_id)
    assert first.body == second.body
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.attempts == 1

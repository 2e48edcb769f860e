"""The demo receiver command says whether each request's signature verifies with the endpoint's secret."""

from __future__ import annotations

import io
import json

import pytest

from webhooks.management.commands.webhook_receiver import Command
from webhooks.services import endpoint_create
from webhooks.signing import signature

pytestmark = pytest.mark.django_db


def test_the_demo_receiver_verifies_signatures(manager):
    endpoint = endpoint_create(url="http://127.0.0.1:8765/webhooks", topics=["order.created"], by=manager)
    body = json.dumps({"type": "order.created", "subject": {"type": "order", "id": "SO-2026-000001"}, "sequence": 1}).encode()
    good = {
        "webhook-id": "abc",
        "webhook-timestamp": "1700000000",
        "webhook-signature": signature(secret=endpoint.secret, message_id="abc", timestamp=1700000000, body=body),
    }
    command = Command(stdout=io.StringIO())
    command.show("/webhooks", good, body, 8765)
    command.show("/webhooks", {**good, "webhook-id": "other"}, body, 8765)
    first, second = command.stdout._out.getvalue().splitlines()
    assert "order.created SO-2026-000001 #1 signature verified" in first
    assert "NOT verified" in second

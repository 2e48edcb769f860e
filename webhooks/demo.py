"""Demo webhook endpoint: one receiver on this machine, registered disabled so that `make run` needs
nothing listening there. Running it again adds nothing."""

from __future__ import annotations

from .models import WebhookEndpoint
from .services import endpoint_create
from .topics import TOPICS

DEMO_URL = "http://127.0.0.1:8765/webhooks"


def seed(*, users, stdout=None) -> None:
    manager = users.get("manager")
    if manager is None or WebhookEndpoint.objects.filter(url=DEMO_URL).exists():
        return
    # Created disabled and without the registration check (it points at this machine); the address is
    # checked again before every request, so it receives nothing unless WEBHOOKS_ALLOW_PRIVATE_NETWORKS
    # and WEBHOOKS_HTTP_HOSTS allow it.
    endpoint = endpoint_create(
        url=DEMO_URL,
        topics=TOPICS,
        description="Demo receiver: python manage.py webhook_receiver",
        enabled=False,
        check_address=False,
        by=manager,
    )
    if stdout is not None:
        stdout.write(f"Webhooks demo: endpoint {endpoint.url} (disabled; see README, Webhooks).")

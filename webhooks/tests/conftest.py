from __future__ import annotations

import pytest

from webhooks.services import endpoint_create
from webhooks.tests.receiver import Receiver
from webhooks.topics import TOPICS


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """The tests' receivers listen on 127.0.0.1 over plain http: allowed here, never by default."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_HTTP_HOSTS = ["127.0.0.1"]
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 5
    settings.WEBHOOKS_READ_TIMEOUT = 2


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(manager, receiver):
    return endpoint_create(url=receiver.url, topics=TOPICS, by=manager)

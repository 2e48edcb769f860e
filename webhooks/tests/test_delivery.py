"""Sending to a real receiver on this machine: signed requests, retries, giving up, disabling a broken
endpoint, replays, leases, and ordering per order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.models import Notification
from config.outbox import outbox_dispatch
from config.tasks import dispatch_outbox
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.entry.services import order_cancel
from webhooks.delivery import webhooks_deliver_due
from webhooks.housekeeping import webhooks_forget_old
from webhooks.models import DisabledReason, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services import delivery_replay, endpoint_create, endpoint_enable, endpoint_replay_failed
from webhooks.tasks import deliver_webhooks
from webhooks.tests.receiver import DownReceiver, Receiver, verify_signature
from webhooks.topics import TOPICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return stocked_product(stock={WarehouseFactory(code="SH", priority=1): 50}, sku="TEA-LJ-250")


def an_order(product):
    """An order submitted and approved: two events, order.created then order.approved."""
    order = approved_order(lines=[(product, 2)])
    outbox_dispatch()
    return order


def everything_due_now() -> None:
    """Time passes: every retry and every pause is over."""
    now = timezone.now()
    WebhookDelivery.objects.update(next_attempt_at=now)
    WebhookEndpoint.objects.update(paused_until=None)


def test_the_receiver_gets_signed_events_it_can_verify(endpoint, receiver, product):
    order = an_order(product)
    assert webhooks_deliver_due() == 2
    assert len(receiver.requests) == 2
    for received in receiver.requests:
        assert verify_signature(secret=endpoint.secret, headers=received.headers, body=received.body)
        assert received.headers["content-type"] == "application/json"
        assert received.event["id"] == received.id
    created, approved = (received.event for received in receiver.requests)
    assert [created["type"], approved["type"]] == ["order.created", "order.approved"]
    assert [created["sequence"], approved["sequence"]] == [1, 2]
    assert created["subject"] == {"type": "order", "id": order.number}
    assert approved["data"]["number"] == order.number
    assert approved["data"]["status"] == "approved"
    assert approved["data"]["total"] == str(order.total)  # money as a decimal string
    assert approved["data"]["lines"][0]["sku"] == "TEA-LJ-250"
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 2


def test_a_tampered_body_or_another_secret_does_not_verify(endpoint, receiver, product):
    an_order(product)
    webhooks_deliver_due()
    received = receiver.requests[0]
    assert not verify_signature(secret=endpoint.secret, headers=received.headers, body=received.body + b" ")
    other = endpoint_create(url=receiver.url, topics=["stock.low"], by=endpoint.created_by)
    assert not verify_signature(secret=other.secret, headers=received.headers, body=received.body)


def test_a_500_is_retried_later_with_the_same_id_and_the_same_bytes(endpoint, receiver, product):
    receiver.statuses = [500]
    an_order(product)
    webhooks_deliver_due()
    assert len(receiver.requests) == 1  # the failing endpoint is paused: the second event waits too
    first = WebhookDelivery.objects.get(message_id=receiver.requests[0].id)
    assert first.delivered_at is None and first.failed_at is None
    assert first.attempts == 1 and first.last_status_code == 500
    assert first.next_attempt_at > timezone.now()
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).paused_until > timezone.now()
    webhooks_deliver_due()
    assert len(receiver.requests) == 1  # nothing is due yet
    everything_due_now()
    webhooks_deliver_due()
    assert receiver.ids()[:2] == [str(first.message_id)] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    first.refresh_from_db()
    assert first.delivered_at is not None and first.attempts == 2
    assert list(first.attempt_log.order_by("started_at").values_list("status_code", flat=True)) == [500, 200]
    assert len(receiver.requests) == 3  # then the order's second event


@pytest.mark.parametrize("status", [408, 429, 503])
def test_timeouts_and_throttling_answers_are_retried(endpoint, receiver, product, status):
    receiver.statuses = [status]
    an_order(product)
    webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get(message_id=receiver.requests[0].id)
    assert delivery.failed_at is None and delivery.next_attempt_at > timezone.now()


def test_a_400_is_not_retried_and_the_next_event_of_the_order_goes_on(endpoint, receiver, product):
    receiver.statuses = [400]
    an_order(product)
    webhooks_deliver_due()
    refused = WebhookDelivery.objects.get(message_id=receiver.requests[0].id)
    assert refused.failed_at is not None
    assert refused.failure == WebhookDelivery.Failure.REFUSED
    assert len(receiver.requests) == 2  # the given-up event no longer holds back the order's next one
    everything_due_now()
    webhooks_deliver_due()
    assert len(receiver.requests) == 2  # never sent again by itself


def test_the_response_excerpt_is_kept_to_one_kilobyte(endpoint, product):
    with Receiver() as chatty:
        endpoint.url = chatty.url
        endpoint.save()
        chatty.statuses = [500]
        an_order(product)
        webhooks_deliver_due()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 500
    assert json.loads(attempt.response_excerpt) == {"status": 500}
    assert attempt.duration_ms >= 0


def test_a_receiver_that_is_down_is_retried_and_never_flooded(manager, product):
    down = DownReceiver()
    endpoint_create(url=down.url, topics=TOPICS, by=manager)
    for _ in range(3):
        an_order(product)
    assert webhooks_deliver_due() == 1  # one probe, not six connection errors
    attempt = WebhookAttempt.objects.get()
    assert attempt.error == WebhookAttempt.Error.CONNECTION and attempt.status_code is None


def test_after_n_failures_in_a_row_the_endpoint_is_disabled_and_managers_told(settings, endpoint, receiver, product, manager):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.default = 503
    an_order(product)
    for _ in range(5):
        everything_due_now()
        webhooks_deliver_due()
    endpoint.refresh_from_db()
    assert len(receiver.requests) == 3  # disabled at the third failure: nothing more is sent
    assert not endpoint.is_active and endpoint.disabled_reason == DisabledReason.FAILURES
    notice = Notification.objects.get(recipient=manager)
    assert endpoint.url in notice.message and "3" in notice.message
    assert notice.url == endpoint.get_absolute_url()
    # Its queue is kept (and grows): enabled again, it gets everything, in order.
    order = approved_order(lines=[(product, 1)])
    outbox_dispatch()
    assert WebhookDelivery.objects.filter(endpoint=endpoint, aggregate_id=order.number).count() == 2
    receiver.default = 200
    endpoint_enable(endpoint=endpoint, by=manager)
    webhooks_deliver_due()
    assert WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at__isnull=True).count() == 0


def test_a_manager_replays_one_delivery_with_the_same_id(endpoint, receiver, product, manager):
    an_order(product)
    webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get(message_id=receiver.requests[0].id)
    delivery_replay(delivery=delivery, by=manager)
    webhooks_deliver_due()
    assert receiver.ids().count(str(delivery.message_id)) == 2
    assert receiver.requests[-1].body == receiver.requests[0].body
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.attempts == 2


def test_replay_all_failed_sends_each_given_up_delivery_again(endpoint, receiver, product, manager):
    receiver.statuses = [410, 410]
    an_order(product)
    webhooks_deliver_due()
    assert WebhookDelivery.objects.filter(failed_at__isnull=False).count() == 2
    assert endpoint_replay_failed(endpoint=endpoint, by=manager) == 2
    webhooks_deliver_due()
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 2
    assert len(receiver.requests) == 4 and receiver.ids()[:2] == receiver.ids()[2:]
    assert endpoint_replay_failed(endpoint=endpoint, by=manager) == 0


def test_a_claim_whose_worker_died_is_sent_again_with_the_same_id(endpoint, receiver, product):
    """The worker took the lease and died before recording anything: when the lease runs out,
    the next run sends the same event again."""
    an_order(product)
    first = WebhookDelivery.objects.order_by("sequence").first()
    WebhookDelivery.objects.filter(pk=first.pk).update(leased_until=timezone.now() + timedelta(minutes=2))
    webhooks_deliver_due()
    assert receiver.requests == []  # leased, and the order's second event waits for the first
    WebhookDelivery.objects.filter(pk=first.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    webhooks_deliver_due()
    assert receiver.ids()[0] == str(first.message_id)
    assert len(receiver.requests) == 2


def test_a_receiver_down_for_a_while_gets_every_event_in_order_per_order(manager, product):
    """Orders change while the receiver is down; once it is back it gets every event (each id at
    least once), and per order in sequence order."""
    down = DownReceiver()
    endpoint = endpoint_create(url=down.url, topics=TOPICS, by=manager)
    orders = [an_order(product) for _ in range(3)]
    order_cancel(order=orders[1], by=manager, reason="customer changed their mind")
    outbox_dispatch()
    for _ in range(3):
        everything_due_now()
        webhooks_deliver_due()
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 0
    expected = set(WebhookDelivery.objects.values_list("message_id", flat=True))
    assert len(expected) == 7
    with Receiver() as back:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=back.url)  # it came back (on its old port, here a new one)
        everything_due_now()
        webhooks_deliver_due()
        got = back.requests
    assert {received.id for received in got} == {str(pk) for pk in expected}
    per_order: dict[str, list[int]] = {}
    for received in got:
        per_order.setdefault(received.event["subject"]["id"], []).append(received.event["sequence"])
    assert per_order == {orders[0].number: [1, 2], orders[1].number: [1, 2, 3], orders[2].number: [1, 2]}
    assert [e.event["type"] for e in got if e.event["subject"]["id"] == orders[1].number] == [
        "order.created",
        "order.approved",
        "order.cancelled",
    ]


def test_with_the_broker_down_nothing_is_lost_the_beat_task_sends_it_later(
    monkeypatch, django_capture_on_commit_callbacks, endpoint, receiver, product
):
    """Every after-commit kick meets a dead broker; the rows wait, and the sender beat runs when
    Redis is back delivers everything, in order."""
    kicks = []

    def broker_down(*args, **kwargs):
        kicks.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(dispatch_outbox, "delay", broker_down)
    monkeypatch.setattr(deliver_webhooks, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        order = approved_order(lines=[(product, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        outbox_dispatch()  # what beat's outbox task does once it runs
    assert len(kicks) >= 2 and receiver.requests == []
    assert WebhookDelivery.objects.filter(aggregate_id=order.number, delivered_at__isnull=True).count() == 2
    deliver_webhooks.apply()  # beat's sender task
    assert [r.event["type"] for r in receiver.requests] == ["order.created", "order.approved"]


def test_old_delivered_webhooks_are_forgotten_and_failed_ones_kept(settings, endpoint, receiver, product):
    receiver.statuses = [410]
    an_order(product)
    webhooks_deliver_due()
    long_ago = timezone.now() - timedelta(days=settings.WEBHOOKS_KEEP_DAYS + 1)
    WebhookDelivery.objects.update(created_at=long_ago)
    WebhookDelivery.objects.filter(delivered_at__isnull=False).update(delivered_at=long_ago)
    WebhookMessage.objects.update(created_at=long_ago)
    assert webhooks_forget_old() == 1
    (kept,) = WebhookDelivery.objects.all()
    assert kept.failed_at is not None and kept.attempt_log.count() == 1
    assert WebhookMessage.objects.count() == 1  # the delivered one's event went with it

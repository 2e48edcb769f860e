"""Business events become webhook events: which topics, for which endpoints, with which sequence,
recorded in the outbox event's transaction exactly once."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from billing.payments.models import PaymentMethod
from billing.payments.services import payment_record
from billing.payments.tests.factories import bare_order, issued_invoice
from config.outbox import OutboxEvent, outbox_dispatch, outbox_publish
from customers.tests.factories import CustomerFactory
from inventory.stock.alerts import low_stock_refresh
from inventory.tests.factories import WarehouseFactory, approved_order, stock_take, stocked_product
from logistics.tests.factories import allocated_order, packed_shipment, ship
from logistics.tracking.services import shipment_confirm_delivery
from orders.entry.services import order_cancel
from webhooks.demo import DEMO_URL, seed
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage, WebhookSequence
from webhooks.payloads import BUILDERS
from webhooks.services import HANDLER, endpoint_create, endpoint_disable, webhook_event_record
from webhooks.topics import INTERNAL_TOPICS, TOPICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SH", priority=1)


@pytest.fixture
def product(warehouse):
    return stocked_product(stock={warehouse: 50}, sku="TEA-LJ-250")


def bodies(endpoint=None) -> list[dict]:
    deliveries = WebhookDelivery.objects.select_related("message").order_by("message__created_at", "pk")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return [json.loads(delivery.message.body) for delivery in deliveries]


def test_every_internal_topic_is_subscribed_and_has_a_builder():
    subscribed = {topic for topic, paths in settings.OUTBOX_HANDLERS.items() if HANDLER in paths}
    assert subscribed == set(INTERNAL_TOPICS) == set(BUILDERS)
    assert set(INTERNAL_TOPICS.values()) == set(TOPICS)


def test_an_endpoint_gets_only_the_topics_it_chose(manager, product):
    approvals = endpoint_create(url="https://203.0.113.10/approvals", topics=["order.approved"], by=manager)
    everything = endpoint_create(url="https://203.0.113.10/all", topics=TOPICS, by=manager)
    order = approved_order(lines=[(product, 2)])
    outbox_dispatch()
    assert [body["type"] for body in bodies(approvals)] == ["order.approved"]
    assert [body["type"] for body in bodies(everything)] == ["order.created", "order.approved"]
    # One event, one id and one body, whichever endpoint it goes to.
    approved = WebhookMessage.objects.get(type="order.approved")
    assert approved.deliveries.count() == 2
    assert approved.aggregate_id == order.number and approved.sequence == 2
    assert approved.occurred_at == OutboxEvent.objects.get(pk=approved.source_event_id).created_at


def test_nothing_is_recorded_without_an_endpoint_or_for_one_a_manager_disabled(manager, product):
    approved_order(lines=[(product, 2)])
    outbox_dispatch()
    assert not WebhookMessage.objects.exists() and not WebhookSequence.objects.exists()
    endpoint = endpoint_create(url="https://203.0.113.10/x", topics=TOPICS, by=manager)
    endpoint_disable(endpoint=endpoint, by=manager)
    approved_order(lines=[(product, 1)])
    outbox_dispatch()
    assert not WebhookDelivery.objects.exists()


def test_recording_an_event_twice_writes_it_once(manager, product):
    endpoint_create(url="https://203.0.113.10/x", topics=TOPICS, by=manager)
    approved_order(lines=[(product, 2)])
    event = OutboxEvent.objects.filter(topic="orders.salesorder.submit").get()
    assert len(webhook_event_record(event=event)) == 1
    assert webhook_event_record(event=event) == []
    assert WebhookDelivery.objects.count() == 1


def test_a_cancelled_order_says_so_after_created_and_approved(manager, product):
    endpoint_create(url="https://203.0.113.10/x", topics=TOPICS, by=manager)
    order = approved_order(lines=[(product, 2)])
    order_cancel(order=order, by=manager, reason="customer changed their mind")
    outbox_dispatch()
    found = bodies()
    assert [(b["type"], b["sequence"]) for b in found] == [("order.created", 1), ("order.approved", 2), ("order.cancelled", 3)]
    assert found[-1]["data"]["status"] == "cancelled" and found[-1]["data"]["previous_status"] == "approved"


def test_a_shipment_leaving_is_order_shipped_with_carrier_and_waybills(manager, make_user, warehouse, product):
    order = allocated_order(lines=[(product, 3)])
    outbox_dispatch()
    endpoint_create(url="https://203.0.113.10/x", topics=["order.shipped"], by=manager)
    clerk = make_user("warehouse")
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk, waybills=["SF1234567890"])
    outbox_dispatch()
    (shipped,) = bodies()
    assert shipped["type"] == "order.shipped" and shipped["subject"] == {"type": "order", "id": order.number}
    assert shipped["data"]["status"] == "shipped"
    assert shipped["data"]["shipment"]["number"] == shipment.number
    assert shipped["data"]["shipment"]["parcels"][0]["waybill"] == "SF1234567890"
    assert shipped["data"]["shipment"]["lines"] == [{"sku": "TEA-LJ-250", "quantity": 3}]
    assert shipped["sequence"] == 1  # the order's first event recorded (nobody listened before)


def test_a_delivered_shipment_makes_the_order_delivered_after_shipped(manager, make_user, warehouse, product):
    endpoint_create(url="https://203.0.113.10/x", topics=["order.shipped", "order.delivered"], by=manager)
    order = allocated_order(lines=[(product, 2)])
    clerk = make_user("warehouse")
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk)
    shipment_confirm_delivery(shipment=shipment, by=clerk, note="picked up at the counter")
    outbox_dispatch()
    assert [(b["type"], b["sequence"], b["data"]["status"]) for b in bodies()] == [
        ("order.shipped", 1, "shipped"),
        ("order.delivered", 2, "delivered"),
    ]


def test_stock_falling_below_safety_stock_is_stock_low_once(manager, warehouse):
    endpoint_create(url="https://203.0.113.10/x", topics=["stock.low"], by=manager)
    product = stocked_product(stock={warehouse: 10}, safety_stock=5, sku="TEA-BLK-100")
    stock_take(product=product, warehouse=warehouse, quantity=8)
    low_stock_refresh(level_ids=None)
    low_stock_refresh(level_ids=None)  # the alert is open already: no second event
    outbox_dispatch()
    (low,) = bodies()
    assert low["type"] == "stock.low" and low["subject"] == {"type": "stock", "id": "TEA-BLK-100@SH"}
    assert low["data"]["available"] == 2 and low["data"]["safety_stock"] == 5


def test_an_order_event_waits_for_the_earlier_one_so_sequences_follow_what_happened(manager, product):
    """The first event's dispatch is held up (another dispatcher holds it, or it failed and waits to
    be retried): the second is not numbered before it."""
    endpoint_create(url="https://203.0.113.10/x", topics=TOPICS, by=manager)
    approved_order(lines=[(product, 2)])
    submitted = OutboxEvent.objects.get(topic="orders.salesorder.submit")
    approved = OutboxEvent.objects.get(topic="orders.salesorder.pass_checks")
    OutboxEvent.objects.filter(pk=submitted.pk).update(available_at=timezone.now() + timedelta(minutes=5))
    outbox_dispatch()
    approved.refresh_from_db()
    assert HANDLER not in approved.handled and "EarlierEventPending" in approved.last_error
    assert not WebhookMessage.objects.exists()
    OutboxEvent.objects.update(available_at=timezone.now())
    outbox_dispatch()
    OutboxEvent.objects.update(available_at=timezone.now())
    outbox_dispatch()
    assert [(b["type"], b["sequence"]) for b in bodies()] == [("order.created", 1), ("order.approved", 2)]


def test_a_recorded_payment_is_payment_received_with_the_invoices_it_paid(manager, make_user):
    endpoint_create(url="https://203.0.113.10/x", topics=["payment.received"], by=manager)
    invoice = issued_invoice(gross="1130.00")
    payment = payment_record(
        customer=invoice.customer,
        amount=Decimal("1130.00"),
        date=timezone.localdate(),
        method=PaymentMethod.BANK_TRANSFER,
        reference="TX-42",
        allocations=[(invoice, Decimal("1130.00"))],
        by=make_user("finance"),
    )
    outbox_dispatch()
    (received,) = bodies()
    assert received["type"] == "payment.received" and received["subject"] == {"type": "payment", "id": payment.number}
    assert received["data"]["amount"] == "1130.00" and received["data"]["invoices"] == [invoice.number]
    assert received["data"]["customer"]["code"] == invoice.customer.code


def test_an_issued_invoice_is_invoice_issued_naming_its_orders(manager):
    """The event billing's issue transition publishes ("billing.invoice.issue", the invoice's id)."""
    endpoint_create(url="https://203.0.113.10/x", topics=["invoice.issued"], by=manager)
    order = bare_order(customer=CustomerFactory(), by=manager)
    invoice = issued_invoice(order=order, gross="226.00")
    outbox_publish(topic="billing.invoice.issue", payload={"id": invoice.pk, "from": "draft", "to": "issued"})
    outbox_dispatch()
    (issued,) = bodies()
    assert issued["type"] == "invoice.issued" and issued["subject"] == {"type": "invoice", "id": invoice.number}
    assert issued["data"]["total_gross"] == "226.00" and issued["data"]["orders"] == [order.number]
    assert issued["data"]["due_date"] == invoice.due_date.isoformat()


def test_the_demo_registers_one_disabled_endpoint_once(manager):
    seed(users={"manager": manager})
    seed(users={"manager": manager})
    (endpoint,) = WebhookEndpoint.objects.all()
    assert endpoint.url == DEMO_URL and not endpoint.is_active and endpoint.topics == TOPICS


def test_each_shipment_leaving_says_what_the_order_became_then(manager, make_user, warehouse, product):
    """Two shipments recorded late (after both left): the first still says partially shipped."""
    endpoint_create(url="https://203.0.113.10/x", topics=["order.shipped"], by=manager)
    order = allocated_order(lines=[(product, 3)])
    line = order.lines.get()
    clerk = make_user("warehouse")
    first = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={line.pk: 1}), by=clerk)
    second = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={line.pk: 2}), by=clerk)
    outbox_dispatch()
    assert [(b["data"]["shipment"]["number"], b["sequence"], b["data"]["status"]) for b in bodies()] == [
        (first.number, 1, "partially_shipped"),
        (second.number, 2, "shipped"),
    ]

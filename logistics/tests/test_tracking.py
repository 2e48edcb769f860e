"""Carrier tracking pushes (Kuaidi100, AfterShip): signed or refused, stored once, merged; delivery of
every parcel delivers the shipment and then the order; the customer's tracking page by token."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from logistics.models import (
    OrderTrackingToken,
    ShipmentEvent,
    ShipmentState,
    TrackingEvent,
    TrackingStatus,
    UnmatchedTrackingEvent,
)
from logistics.tests.factories import allocated_order, packed_shipment, ship, stocked_product
from logistics.tracking.hooks import aftership_sign, kuaidi100_sign
from logistics.tracking.services import order_tracking_token_revoke, shipment_confirm_delivery
from orders.models import OrderEvent, OrderStatus

pytestmark = pytest.mark.django_db

SALT = "test-salt"
SECRET = "test-secret"
K100 = "/hooks/tracking/kuaidi100/"
AFTERSHIP = "/hooks/tracking/aftership/"


@pytest.fixture(autouse=True)
def secrets_set(settings):
    settings.KUAIDI100_SALT = SALT
    settings.AFTERSHIP_WEBHOOK_SECRET = SECRET
    cache.clear()


@pytest.fixture
def shipped(warehouse, clerk):
    """A shipped shipment of a whole order in two parcels."""
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯")
    order = allocated_order(lines=[(tea, 4), (cup, 2)])
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk, parcels=2)
    return ship(shipment, by=clerk)


def k100_param(waybill, state, rows, com="shunfeng"):
    return json.dumps(
        {"status": "polling", "lastResult": {"nu": waybill, "com": com, "state": str(state), "ischeck": "0", "data": rows}},
        ensure_ascii=False,
    )


def k100_post(client, param, sign=None):
    return client.post(K100, {"param": param, "sign": kuaidi100_sign(param, SALT) if sign is None else sign})


ROWS_1 = [{"time": "2026-11-30 09:00:00", "ftime": "2026-11-30 09:00:00", "context": "【上海】已揽收", "areaName": "上海"}]
ROWS_2 = [{"time": "2026-11-30 18:00:00", "context": "【杭州】到达杭州转运中心", "areaName": "杭州"}, *ROWS_1]
DELIVERED = [{"time": "2026-12-01 10:00:00", "context": "已签收，签收人：本人"}, *ROWS_2]


def waybills(shipment):
    return list(shipment.parcels.order_by("index").values_list("waybill_number", flat=True))


def test_wrong_signature_is_refused_and_stores_nothing(client, shipped):
    param = k100_param(waybills(shipped)[0], 1, ROWS_1)
    response = k100_post(client, param, sign="0" * 32)
    assert response.status_code == 401
    assert k100_post(client, param, sign="").status_code == 401
    assert TrackingEvent.objects.count() == 0 and UnmatchedTrackingEvent.objects.count() == 0


def test_unset_salt_refuses_every_push(client, shipped, settings):
    param = k100_param(waybills(shipped)[0], 1, ROWS_1)
    settings.KUAIDI100_SALT = ""
    assert client.post(K100, {"param": param, "sign": kuaidi100_sign(param, "")}).status_code == 401
    assert TrackingEvent.objects.count() == 0


def test_same_push_twice_stores_events_once(client, shipped):
    param = k100_param(waybills(shipped)[0], 1, ROWS_1)
    assert k100_post(client, param).status_code == 200
    assert k100_post(client, param).status_code == 200
    event = TrackingEvent.objects.get()
    assert (event.status, event.location, event.source) == (TrackingStatus.COLLECTED, "上海", "kuaidi100")
    assert event.shipment == shipped


def test_full_history_pushes_merge_in_any_order(client, shipped):
    number = waybills(shipped)[0]
    assert k100_post(client, k100_param(number, 0, ROWS_2)).status_code == 200
    assert k100_post(client, k100_param(number, 1, ROWS_1)).status_code == 200  # late, older push
    assert k100_post(client, k100_param(number, 0, ROWS_2)).status_code == 200  # replay
    assert TrackingEvent.objects.filter(parcel__waybill_number=number).count() == 2


def test_unknown_waybill_answers_200_and_is_kept_aside(client, shipped):
    response = k100_post(client, k100_param("NOSUCH123", 0, ROWS_1))
    assert response.status_code == 200
    kept = UnmatchedTrackingEvent.objects.get()
    assert kept.waybill_number == "NOSUCH123" and kept.carrier_code == "shunfeng"
    assert TrackingEvent.objects.count() == 0
    k100_post(client, k100_param("NOSUCH123", 0, ROWS_1))
    assert UnmatchedTrackingEvent.objects.count() == 1


@pytest.mark.parametrize(
    "param",
    [
        "not json",
        json.dumps({"status": "polling"}),
        json.dumps({"lastResult": {"nu": "X", "state": "99", "data": []}}),
        json.dumps({"lastResult": {"nu": "X", "state": "0", "data": [{"context": "no time"}]}}),
    ],
)
def test_malformed_push_answers_400_json(client, shipped, param):
    response = k100_post(client, param)
    assert response.status_code == 400
    assert response.json()["result"] is False
    assert TrackingEvent.objects.count() == 0 and UnmatchedTrackingEvent.objects.count() == 0


def aftership_body(waybill, tags):
    checkpoints = [
        {"checkpoint_time": f"2026-11-30T{10 + i:02d}:00:00+08:00", "tag": tag, "message": f"step {i}", "location": "上海"}
        for i, tag in enumerate(tags)
    ]
    return json.dumps({"msg": {"tracking_number": waybill, "slug": "shunfeng", "checkpoints": checkpoints}}).encode()


def test_aftership_hmac_good_and_bad(client, shipped):
    body = aftership_body(waybills(shipped)[0], ["InfoReceived", "InTransit"])
    bad = client.post(AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": "AAAA"})
    assert bad.status_code == 401
    missing = client.post(AFTERSHIP, body, content_type="application/json")
    assert missing.status_code == 401
    assert TrackingEvent.objects.count() == 0
    sign = aftership_sign(body, SECRET)
    good = client.post(AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": sign})
    assert good.status_code == 200
    again = client.post(AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": sign})
    assert again.status_code == 200
    assert list(TrackingEvent.objects.values_list("status", flat=True)) == [TrackingStatus.COLLECTED, TrackingStatus.IN_TRANSIT]


def test_aftership_malformed_body_answers_400(client, shipped):
    body = b'{"msg": {"checkpoints": 5}}'
    response = client.post(
        AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": aftership_sign(body, SECRET)}
    )
    assert response.status_code == 400


def test_every_parcel_signed_delivers_shipment_then_order(client, shipped):
    first, second = waybills(shipped)
    k100_post(client, k100_param(first, 3, DELIVERED))
    shipped.refresh_from_db()
    assert shipped.state == ShipmentState.SHIPPED  # one parcel of two
    k100_post(client, k100_param(second, 3, DELIVERED))
    shipped.refresh_from_db()
    assert shipped.state == ShipmentState.DELIVERED and shipped.delivered_at is not None
    event = shipped.events.get(kind=ShipmentEvent.Kind.DELIVER)
    assert event.actor_kind == "system" and event.actor_name == "tracking"
    order = shipped.order
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.events.filter(to_state=OrderStatus.DELIVERED).exists()
    assert OrderEvent.objects.filter(order=order, to_state=OrderStatus.DELIVERED).count() == 1


def test_partly_shipped_order_is_not_delivered(client, warehouse, clerk):
    tea = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(tea, 4)])
    line = order.lines.get()
    shipment = ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={line.pk: 2}), by=clerk)
    k100_post(client, k100_param(waybills(shipment)[0], 3, DELIVERED))
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED
    assert order.status == OrderStatus.PARTIALLY_SHIPPED


def test_confirm_delivery_by_hand(client_as, shipped):
    client = client_as("warehouse")
    response = client.post(reverse("logistics:shipment_confirm_delivery", args=[shipped.pk]))
    assert response.status_code == 302
    shipped.refresh_from_db()
    assert shipped.state == ShipmentState.DELIVERED
    event = shipped.events.get(kind=ShipmentEvent.Kind.DELIVER)
    assert event.by == client.user and event.at is not None
    shipped.order.refresh_from_db()
    assert shipped.order.status == OrderStatus.DELIVERED


def test_confirm_delivery_needs_permission(make_user, shipped):
    from config.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        shipment_confirm_delivery(shipment=shipped, by=make_user("sales"))
    shipped.refresh_from_db()
    assert shipped.state == ShipmentState.SHIPPED


def test_tracking_page(client, shipped, warehouse, clerk):
    token = OrderTrackingToken.objects.get(order=shipped.order)
    assert len(token.token) >= 32
    k100_post(client, k100_param(waybills(shipped)[0], 0, ROWS_2))
    other_product = stocked_product(stock={warehouse: 5}, name="另一个订单的商品")
    other = ship(packed_shipment(order=allocated_order(lines=[(other_product, 1)]), warehouse=warehouse, by=clerk), by=clerk)
    response = client.get(f"/t/{token.token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert shipped.order.number in page and shipped.number in page
    assert "到达杭州转运中心" in page and waybills(shipped)[0] in page
    assert other.order.number not in page and "另一个订单的商品" not in page and waybills(other)[0] not in page
    line = shipped.order.lines.first()
    assert str(line.unit_price) not in page and str(shipped.order.total) not in page
    assert client.get("/t/wrong-token/").status_code == 404


def test_revoked_token_is_404(client, shipped, clerk):
    token = OrderTrackingToken.objects.get(order=shipped.order).token
    order_tracking_token_revoke(order=shipped.order, by=clerk)
    assert client.get(f"/t/{token}/").status_code == 404


def test_tracking_page_rate_limited(client, shipped, settings):
    settings.TRACKING_PAGE_RATE_LIMIT = 3
    codes = [client.get("/t/nothing/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_shipped_email_and_label_carry_the_tracking_page_link(warehouse, clerk, django_capture_on_commit_callbacks):
    from django.core import mail

    from logistics.shipments.documents import label_context

    tea = stocked_product(stock={warehouse: 10})
    order = allocated_order(lines=[(tea, 1)])
    order.customer.email = "buyer@example.cn"
    order.customer.save()
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        ship(shipment, by=clerk)
    token = OrderTrackingToken.objects.get(order=order).token
    (message,) = [m for m in mail.outbox if shipment.number in m.body]
    assert f"/t/{token}/" in message.body
    (label,) = label_context(shipment=shipment)["labels"]
    assert label.qr_uri


def test_unset_aftership_secret_refuses_every_push(client, shipped, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = ""
    body = aftership_body(waybills(shipped)[0], ["Delivered"])
    response = client.post(
        AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": aftership_sign(body, "")}
    )
    assert response.status_code == 401
    assert TrackingEvent.objects.count() == 0


def test_a_push_after_delivery_is_stored_and_changes_nothing(client, shipped):
    first, second = waybills(shipped)
    k100_post(client, k100_param(first, 3, DELIVERED))
    k100_post(client, k100_param(second, 3, DELIVERED))
    k100_post(client, k100_param(second, 3, DELIVERED))  # replayed
    shipped.refresh_from_db()
    assert shipped.state == ShipmentState.DELIVERED
    assert shipped.events.filter(kind=ShipmentEvent.Kind.DELIVER).count() == 1
    assert TrackingEvent.objects.filter(shipment=shipped).count() == 6


def test_non_ascii_signature_is_refused_not_an_error(client, shipped):
    param = k100_param(waybills(shipped)[0], 1, ROWS_1)
    assert k100_post(client, param, sign="签名").status_code == 401
    body = aftership_body(waybills(shipped)[0], ["InTransit"])
    response = client.post(AFTERSHIP, body, content_type="application/json", headers={"aftership-hmac-sha256": "é"})
    assert response.status_code == 401
    assert TrackingEvent.objects.count() == 0


def test_kuaidi100_last_result_not_an_object_is_400(client, shipped):
    param = json.dumps({"lastResult": "oops"})
    assert k100_post(client, param).status_code == 400


def test_confirming_delivery_before_shipping_is_refused(warehouse, clerk):
    from config.errors import DomainError

    tea = stocked_product(stock={warehouse: 10})
    shipment = packed_shipment(order=allocated_order(lines=[(tea, 1)]), warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError):
        shipment_confirm_delivery(shipment=shipment, by=clerk)
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.PACKED

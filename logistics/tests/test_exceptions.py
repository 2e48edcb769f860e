"""Delivery exceptions: found late by the beat task, opened once by a carrier's problem push, reported
by hand; resolved by re-shipping from stock, asking billing for a refund or closing with a note;
escalated to managers once; the salesperson told; who may see and do what."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from config.errors import DomainError, PermissionRefused
from config.models import Notification
from config.outbox import OutboxEvent, outbox_dispatch
from customers.models import Customer
from inventory.models import Reservation, ReservationState, StockLevel
from inventory.stock.services import stock_verify_ledger
from logistics.exceptions.models import (
    DeliveryException,
    DetectedBy,
    ExceptionKind,
    ExceptionOutcome,
    ExceptionState,
)
from logistics.exceptions.services import exception_report, exception_resolve, exceptions_escalate, exceptions_open_late
from logistics.exceptions.tasks import watch_deliveries
from logistics.models import Shipment, ShipmentEvent, ShipmentState
from logistics.shipments.services import shipment_cancel, shipment_pack, shipment_scan, shipment_start_picking
from logistics.tests.factories import allocated_order, carrier, packed_shipment, ship, stocked_product
from logistics.tracking.hooks import kuaidi100_sign
from logistics.tracking.services import order_tracking_url, shipment_confirm_delivery
from orders.models import OrderStatus, SalesOrder
from tests.submissions import with_token

pytestmark = pytest.mark.django_db

SALT = "test-salt"


@pytest.fixture(autouse=True)
def salt(settings):
    settings.KUAIDI100_SALT = SALT
    cache.clear()


@pytest.fixture
def seller(make_user):
    return make_user("sales")


@pytest.fixture
def tea(warehouse):
    return stocked_product(stock={warehouse: 20}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")


@pytest.fixture
def shipped(warehouse, clerk, tea, seller):
    """A shipped shipment of a whole order (4 × tea) entered by `seller`, due yesterday."""
    order = allocated_order(lines=[(tea, 4)])
    SalesOrder.objects.filter(pk=order.pk).update(created_by=seller)
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)
    return ship(shipment, by=clerk, eta=timezone.localdate() - timedelta(days=1))


def k100_push(client, waybill, state, rows):
    param = json.dumps({"status": "polling", "lastResult": {"nu": waybill, "com": "shunfeng", "state": str(state), "data": rows}})
    return client.post("/hooks/tracking/kuaidi100/", {"param": param, "sign": kuaidi100_sign(param, SALT)})


# --- found late by the beat task -------------------------------------------------------------------


def test_the_beat_task_opens_one_late_exception_for_a_shipment_past_its_eta(shipped, seller):
    on_time = Shipment.objects.filter(pk=shipped.pk)
    assert watch_deliveries.delay().get() == 1
    assert watch_deliveries.delay().get() == 0  # safe to run twice
    exception = DeliveryException.objects.get()
    assert (exception.shipment_id, exception.kind, exception.detected_by) == (shipped.pk, ExceptionKind.LATE, DetectedBy.BEAT)
    assert exception.state == ExceptionState.OPEN and exception.order_id == shipped.order_id
    assert on_time.get().state == ShipmentState.EXCEPTION
    assert ShipmentEvent.objects.filter(shipment=shipped, kind=ShipmentEvent.Kind.EXCEPTION).count() == 1
    # The webhooks app's topic and the salesperson's notification, once.
    published = OutboxEvent.objects.filter(topic="logistics.shipment_exception_opened")
    assert [e.payload for e in published] == [
        {
            "exception": exception.pk,
            "shipment": shipped.pk,
            "shipment_number": shipped.number,
            "order": shipped.order_id,
            "order_number": shipped.order.number,
            "kind": "late",
        }
    ]
    outbox_dispatch()
    outbox_dispatch()
    notes = Notification.objects.filter(recipient=seller)
    assert notes.count() == 1 and shipped.number in notes.get().message
    assert notes.get().url == exception.get_absolute_url()


def test_a_shipment_due_today_or_delivered_is_not_late(warehouse, clerk, tea, shipped):
    order = allocated_order(lines=[(tea, 1)])
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk, eta=timezone.localdate())
    shipment_confirm_delivery(shipment=shipped, by=clerk)
    assert exceptions_open_late() == []
    assert not DeliveryException.objects.exists()


def test_a_resolved_late_exception_is_not_opened_again_by_the_next_run(shipped, clerk):
    (late,) = exceptions_open_late()
    exception_resolve(exception=late, outcome=ExceptionOutcome.CLOSE, note="Carrier says tomorrow", by=clerk)
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.SHIPPED  # still on its way
    assert exceptions_open_late() == []
    assert DeliveryException.objects.count() == 1


def test_delivery_after_all_settles_the_open_exception(shipped, clerk):
    (late,) = exceptions_open_late()
    shipment_confirm_delivery(shipment=shipped, by=clerk)
    outbox_dispatch()
    late.refresh_from_db()
    assert (late.state, late.outcome) == (ExceptionState.RESOLVED, ExceptionOutcome.DELIVERED)
    assert SalesOrder.objects.get(pk=shipped.order_id).status == OrderStatus.DELIVERED


# --- carrier pushes -------------------------------------------------------------------------------


def test_a_problem_push_opens_exactly_one_exception_across_replayed_pushes(client, shipped):
    waybill = shipped.parcels.get().waybill_number
    rows = [
        {"ftime": "2026-11-02 09:00:00", "context": "派件异常：地址不详"},
        {"ftime": "2026-11-01 18:00:00", "context": "运输中"},
    ]
    for _push in range(3):
        assert k100_push(client, waybill, 2, rows).status_code == 200
    exception = DeliveryException.objects.get()
    assert (exception.kind, exception.detected_by) == (ExceptionKind.PROBLEM, DetectedBy.TRACKING)
    assert exception.tracking_event is not None and "地址不详" in exception.tracking_event.description
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.EXCEPTION
    # A refusal is news of another kind: one more, and again only once.
    refused = [{"ftime": "2026-11-03 10:00:00", "context": "客户拒收"}, *rows]
    k100_push(client, waybill, 14, refused)
    k100_push(client, waybill, 14, refused)
    assert sorted(DeliveryException.objects.values_list("kind", flat=True)) == ["problem", "refused"]
    assert OutboxEvent.objects.filter(topic="logistics.shipment_exception_opened").count() == 2


def test_a_replayed_problem_push_after_resolution_opens_nothing(client, shipped, clerk):
    waybill = shipped.parcels.get().waybill_number
    rows = [{"ftime": "2026-11-02 09:00:00", "context": "问题件"}]
    k100_push(client, waybill, 2, rows)
    exception_resolve(exception=DeliveryException.objects.get(), outcome="close", note="Address fixed with carrier", by=clerk)
    k100_push(client, waybill, 2, rows)
    assert DeliveryException.objects.filter(state=ExceptionState.OPEN).count() == 0


def test_a_problem_older_than_the_delivery_opens_nothing(client, shipped):
    waybill = shipped.parcels.get().waybill_number
    rows = [
        {"ftime": "2026-11-03 09:00:00", "context": "已签收"},
        {"ftime": "2026-11-02 09:00:00", "context": "派件异常", "statusCode": "2"},
    ]
    k100_push(client, waybill, 3, rows)
    assert not DeliveryException.objects.exists()
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.DELIVERED


# --- by hand, and resolving ----------------------------------------------------------------------


def test_warehouse_reports_a_lost_shipment_and_reships_it_from_stock(shipped, clerk, warehouse, tea):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, note="Carrier lost it at the hub", by=clerk)
    with pytest.raises(DomainError, match="already has an open"):
        exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    line = shipped.lines.get()
    free_before = StockLevel.objects.get(product=tea, warehouse=warehouse).available
    resolved = exception_resolve(
        exception=exception, outcome=ExceptionOutcome.RESHIP, quantities={line.order_line_id: 4}, by=clerk
    )
    assert (resolved.state, resolved.outcome) == (ExceptionState.RESOLVED, ExceptionOutcome.RESHIP)
    assert resolved.lines == [[line.order_line_id, "TEA-001", 4]]
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.LOST
    replacement = Shipment.objects.get(replacement_for=exception)
    assert (replacement.state, replacement.unit_count, replacement.warehouse_id) == (ShipmentState.DRAFT, 4, warehouse.pk)
    # Reserved again through the order's services: free stock dropped, the order line did not change.
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).available == free_before - 4
    order_line = line.order_line
    order_line.refresh_from_db()
    assert order_line.quantity_shipped == 4
    order = SalesOrder.objects.get(pk=shipped.order_id)
    assert order.status == OrderStatus.SHIPPED  # the replacement is still to deliver

    # The replacement goes the usual way: pick, scan, pack, ship, deliver.
    shipment_start_picking(shipment=replacement, by=clerk)
    shipment_scan(shipment=replacement, code="TEA-001", quantity=4, by=clerk)
    from logistics.shipments.services import ParcelInput

    shipment_pack(shipment=replacement, parcels=[ParcelInput(index=1, weight_kg=1)], by=clerk)
    ship(replacement, by=clerk, waybills=["SF-REPLACE-1"])
    on_hand = StockLevel.objects.get(product=tea, warehouse=warehouse)
    assert on_hand.on_hand == 20 - 8 and on_hand.reserved == 0
    order_line.refresh_from_db()
    assert order_line.quantity_shipped == 4  # the order counts the goods once
    assert not Reservation.objects.filter(order_line=order_line, state=ReservationState.ACTIVE).exists()
    shipment_confirm_delivery(shipment=replacement, by=clerk)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert stock_verify_ledger().ok


def test_a_reshipment_cancelled_before_it_leaves_gives_its_stock_back(shipped, clerk, warehouse, tea):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    line = shipped.lines.get()
    free_before = StockLevel.objects.get(product=tea, warehouse=warehouse).available
    exception_resolve(exception=exception, outcome=ExceptionOutcome.RESHIP, quantities={line.order_line_id: 4}, by=clerk)
    replacement = Shipment.objects.get(replacement_for=exception)
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).available == free_before - 4

    shipment_cancel(shipment=replacement, by=clerk, note="refund instead")

    assert StockLevel.objects.get(product=tea, warehouse=warehouse).available == free_before
    assert not Reservation.objects.filter(order_line_id=line.order_line_id, state=ReservationState.ACTIVE).exists()
    assert stock_verify_ledger().ok


def test_reship_is_refused_with_nothing_written_when_stock_is_short(shipped, clerk, warehouse, tea):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    StockLevel.objects.filter(product=tea, warehouse=warehouse).update(on_hand=18, reserved=16)  # 2 free
    line = shipped.lines.get()
    with pytest.raises(DomainError, match="Not enough free stock"):
        exception_resolve(exception=exception, outcome="reship", quantities={line.order_line_id: 4}, by=clerk)
    exception.refresh_from_db()
    assert exception.state == ExceptionState.OPEN
    assert not Shipment.objects.filter(replacement_for=exception).exists()
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).reserved == 16


def test_reship_of_more_than_shipped_is_refused(shipped, clerk):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    with pytest.raises(DomainError, match="not possible"):
        exception_resolve(exception=exception, outcome="reship", quantities={shipped.lines.get().order_line_id: 5}, by=clerk)


def test_refund_outcome_publishes_the_request_for_billing(shipped, clerk):
    shipment_confirm_delivery(shipment=shipped, by=clerk)
    exception = exception_report(shipment=shipped, kind=ExceptionKind.DAMAGED, note="Box crushed", by=clerk)
    line = shipped.lines.get()
    exception_resolve(exception=exception, outcome="refund", quantities={line.order_line_id: 2}, by=clerk)
    (event,) = OutboxEvent.objects.filter(topic="logistics.exception_refund_requested")
    assert event.payload == {
        "exception": exception.pk,
        "order": shipped.order_id,
        "order_number": shipped.order.number,
        "shipment": shipped.pk,
        "shipment_number": shipped.number,
        "lines": [{"order_line": line.order_line_id, "sku": "TEA-001", "quantity": 2}],
    }
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.DELIVERED


def test_refused_goods_closed_with_a_note_mark_the_shipment_returned(shipped, clerk):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.REFUSED, by=clerk)
    with pytest.raises(DomainError, match="Say why"):
        exception_resolve(exception=exception, outcome="close", by=clerk)
    exception_resolve(exception=exception, outcome="close", note="Customer cancelled by phone", by=clerk)
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.RETURNED
    with pytest.raises(DomainError, match="already resolved"):
        exception_resolve(exception=exception, outcome="close", note="again", by=clerk)


def test_a_shipment_not_yet_shipped_cannot_have_an_exception(warehouse, clerk, tea):
    shipment = packed_shipment(order=allocated_order(lines=[(tea, 1)]), warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError, match="no exception can be reported"):
        exception_report(shipment=shipment, kind=ExceptionKind.LOST, by=clerk)


def test_sales_and_managers_cannot_report_or_resolve(shipped, make_user, clerk):
    for role in ("sales", "manager"):
        with pytest.raises(PermissionRefused):
            exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=make_user(role))
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    with pytest.raises(PermissionRefused):
        exception_resolve(exception=exception, outcome="close", note="x", by=make_user("manager"))


# --- escalation --------------------------------------------------------------------------------


def test_an_exception_open_too_long_is_escalated_to_managers_once(shipped, clerk, make_user, settings):
    settings.DELIVERY_EXCEPTION_ESCALATE_DAYS = 3
    boss = make_user("manager")
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    assert exceptions_escalate() == 0
    DeliveryException.objects.filter(pk=exception.pk).update(opened_at=timezone.now() - timedelta(days=4))
    assert exceptions_escalate() == 1
    assert exceptions_escalate() == 0
    assert Notification.objects.filter(recipient=boss).count() == 1
    assert DeliveryException.objects.get(pk=exception.pk).escalated_at is not None


# --- pages and who sees what ---------------------------------------------------------------------


def test_warehouse_reports_and_resolves_through_the_pages(client_as, shipped):
    client = client_as("warehouse")
    report_url = reverse("logistics:exception_report", args=[shipped.pk])
    assert "Report an exception" in client.get(shipped.get_absolute_url()).content.decode()
    response = client.post(report_url, with_token({"kind": "damaged", "note": "Wet box"}))
    exception = DeliveryException.objects.get()
    assert response.status_code == 302 and response["Location"] == exception.get_absolute_url()
    queue = client.get(reverse("logistics:exception_list") + "?state=open&q=" + shipped.order.number).content.decode()
    assert shipped.number in queue
    assert "Delivery exceptions" in client.get(reverse("home")).content.decode()
    resolve_url = reverse("logistics:exception_resolve", args=[exception.pk])
    assert "Confirm and resolve" in client.get(resolve_url).content.decode()
    refused = client.post(resolve_url, with_token({"outcome": "close"}))
    assert refused.status_code == 422 and "Say why" in refused.content.decode()
    token = with_token({"outcome": "close", "note": "Customer keeps it with a discount"})
    assert client.post(resolve_url, token).status_code == 302
    assert client.post(resolve_url, token).status_code == 302  # a double click changes nothing
    exception.refresh_from_db()
    assert exception.outcome == ExceptionOutcome.CLOSE
    assert DeliveryException.objects.filter(state="resolved").count() == 1


def test_sales_see_only_their_orders_exceptions_and_cannot_act(client_as, shipped, clerk, seller, warehouse, tea, make_user):
    mine = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    other_order = allocated_order(lines=[(tea, 1)])
    other = exception_report(
        shipment=ship(packed_shipment(order=other_order, warehouse=warehouse, by=clerk), by=clerk, waybills=["SF-OTHER-1"]),
        kind=ExceptionKind.LOST,
        by=clerk,
    )
    client = client_as("sales")
    client.force_login(seller)
    listing = client.get(reverse("logistics:exception_list")).content.decode()
    assert shipped.number in listing and other.shipment.number not in listing
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("logistics:exception_resolve", args=[mine.pk])).status_code == 403
    assert client.get(reverse("logistics:exception_report", args=[shipped.pk])).status_code == 403
    order_page = client.get(shipped.order.get_absolute_url()).content.decode()
    assert "Delivery exceptions" in order_page and "Lost" in order_page
    manager = client_as("manager")
    listing = manager.get(reverse("logistics:exception_list")).content.decode()
    assert shipped.number in listing and other.shipment.number in listing
    assert client_as("finance").get(reverse("logistics:exception_list")).status_code == 403


def test_customer_page_panel_lists_the_exceptions(client_as, shipped, clerk):
    exception_report(shipment=shipped, kind=ExceptionKind.REFUSED, by=clerk)
    page = client_as("manager").get(shipped.order.customer.get_absolute_url()).content.decode()
    assert "Delivery exceptions" in page and shipped.number in page


def test_the_customer_tracking_page_says_it_plainly_without_internal_notes(client, shipped, clerk):
    exception_report(shipment=shipped, kind=ExceptionKind.LOST, note="INTERNAL: driver suspected", by=clerk)
    path = order_tracking_url(order=shipped.order).split("127.0.0.1:8000", 1)[-1]
    page = client.get(path).content.decode()
    assert shipped.order.customer.language == "zh-hans"
    assert "此次配送出现问题，我们正在核实，并会与您联系。" in page  # in the customer's language
    assert "INTERNAL" not in page
    Customer.objects.filter(pk=shipped.order.customer_id).update(language="en")
    cache.clear()
    page = client.get(path).content.decode()
    assert "There is a problem with this delivery" in page and "INTERNAL" not in page


def test_the_pages_in_chinese(client_as, shipped, clerk):
    exception = exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    client = client_as("warehouse")
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        listing = client.get(reverse("logistics:exception_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        detail = client.get(exception.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "配送异常" in listing and "丢失" in listing
    assert "处理" in detail


@override_settings(LANGUAGE_CODE="en")
def test_notification_is_worded_in_the_readers_language(shipped, seller, clerk):
    exception_report(shipment=shipped, kind=ExceptionKind.LOST, by=clerk)
    outbox_dispatch()
    note = Notification.objects.get(recipient=seller)
    with translation.override("zh-hans"):
        assert shipped.number in note.message and "丢失" in note.message


def test_demo_seeds_one_late_and_one_lost_exception_once(make_user, warehouse):
    import io

    from logistics.exceptions.demo import seed

    clerk = make_user("warehouse")
    carrier("yuantong")
    product = stocked_product(stock={warehouse: 20})
    for _i in range(3):
        order = allocated_order(lines=[(product, 2)])
        assert order.shipping_address_id is not None
    out = io.StringIO()
    seed(users={"warehouse": clerk}, stdout=out)
    seed(users={"warehouse": clerk}, stdout=out)
    kinds = sorted(DeliveryException.objects.filter(state=ExceptionState.OPEN).values_list("kind", flat=True))
    assert kinds == ["late", "lost"]
    assert set(Shipment.objects.values_list("state", flat=True)) == {ShipmentState.EXCEPTION}
    assert stock_verify_ledger().ok

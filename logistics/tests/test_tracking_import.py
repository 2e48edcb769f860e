"""Tracking events from a spreadsheet (carriers without push) and the review of events nobody matched:
checked and previewed row by row, stored all or nothing and once however often the file comes,
Chinese status words and encodings understood, hostile files refused; assign or dismiss kept-aside events."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.errors import DomainError, PermissionRefused
from config.imports import table_from_bytes
from config.tests.test_hostile_imports import bomb_workbook, workbook_bytes
from logistics.exceptions.models import DeliveryException, ExceptionKind
from logistics.models import (
    Shipment,
    ShipmentState,
    TrackingEvent,
    TrackingSource,
    TrackingStatus,
    UnmatchedOutcome,
    UnmatchedTrackingEvent,
)
from logistics.tests.factories import allocated_order, packed_shipment, ship, stocked_product
from logistics.tracking.imports import COLUMNS, TrackingImportRejected, status_from_text, tracking_import, tracking_preview
from logistics.tracking.unmatched import unmatched_assign, unmatched_dismiss
from orders.models import OrderStatus, SalesOrder
from tests.submissions import with_token

pytestmark = pytest.mark.django_db

URL = "/logistics/tracking/import/"


@pytest.fixture(autouse=True)
def stash_dir(settings, tmp_path):
    settings.IMPORT_STASH_DIR = str(tmp_path / "imports")


@pytest.fixture
def shipped(warehouse, clerk):
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克")
    order = allocated_order(lines=[(tea, 2)])
    return ship(packed_shipment(order=order, warehouse=warehouse, by=clerk), by=clerk, waybills=["SF1001"])


CSV = (
    "运单号,时间,状态,描述,地点\n"
    "SF1001,2026-11-01 09:00,已揽收,顺丰已收取快件,上海\n"
    "SF1001,2026/11/02 08:30,运输中,快件到达杭州中转场,杭州\n"
    "SF1001,2026-11-03 10:15,已签收,本人签收,杭州\n"
    "ZZ999,2026-11-03 11:00,派件中,快递员正在派件,北京\n"
)


def table(text: str | bytes, name: str = "track.csv"):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return table_from_bytes(raw, name=name, columns=COLUMNS)


def test_chinese_status_words_map_to_statuses():
    assert status_from_text("已签收") == TrackingStatus.DELIVERED
    assert status_from_text("运输中") == TrackingStatus.IN_TRANSIT
    assert status_from_text("派件中") == TrackingStatus.OUT_FOR_DELIVERY
    assert status_from_text("拒收") == TrackingStatus.REFUSED
    assert status_from_text("退回") == TrackingStatus.RETURNING
    assert status_from_text("问题件") == TrackingStatus.PROBLEM
    assert status_from_text("In transit") == TrackingStatus.IN_TRANSIT  # our own label
    assert status_from_text("在途") == TrackingStatus.IN_TRANSIT  # our own Chinese label
    assert status_from_text("delivered") == TrackingStatus.DELIVERED
    assert status_from_text("飞走了") is None


def test_import_stores_events_once_keeps_unknown_waybills_aside_and_delivers(shipped, clerk):
    preview = tracking_preview(table=table(CSV))
    assert preview.ok and (preview.new_count, preview.known_count, preview.unmatched_count) == (3, 0, 1)
    result = tracking_import(table=table(CSV), by=clerk)
    assert (result.stored, result.unmatched) == (3, 1)
    assert TrackingEvent.objects.filter(shipment=shipped, source=TrackingSource.IMPORT).count() == 3
    assert UnmatchedTrackingEvent.objects.get().waybill_number == "ZZ999"
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.DELIVERED
    assert SalesOrder.objects.get(pk=shipped.order_id).status == OrderStatus.DELIVERED
    # The same file again: everything is known, nothing stored twice.
    again = tracking_preview(table=table(CSV))
    assert (again.new_count, again.known_count, again.unmatched_count) == (0, 4, 0)
    result = tracking_import(table=table(CSV), by=clerk)
    assert (result.stored, result.unmatched) == (0, 0)
    assert TrackingEvent.objects.filter(shipment=shipped).count() == 3
    assert UnmatchedTrackingEvent.objects.count() == 1


def test_gb18030_and_utf8_bom_files_both_read(shipped, clerk):
    for raw in (CSV.encode("gb18030"), "\ufeff".encode() + CSV.encode("utf-8")):
        preview = tracking_preview(table=table(raw))
        assert preview.ok and preview.rows[0].description == "顺丰已收取快件"


def test_an_xlsx_file_with_real_datetimes_reads(shipped, clerk):
    from datetime import datetime

    raw = workbook_bytes(
        [["Waybill number", "Time", "Status", "Description"], ["sf1001", datetime(2026, 11, 2, 9, 0), "问题件", "地址不详"]]
    )
    result = tracking_import(table=table(raw, "track.xlsx"), by=clerk)
    assert result.stored == 1
    # A problem in the file opens a delivery exception, as a push would.
    assert DeliveryException.objects.get().kind == ExceptionKind.PROBLEM


def test_a_bad_row_stores_nothing_and_says_which_row(shipped, clerk):
    bad = CSV + "SF1001,yesterday,已签收,x,y\nSF1001,2026-11-04 10:00,飞走了,x,y\n"
    preview = tracking_preview(table=table(bad))
    errors = {row.number: row.errors for row in preview.rows if row.errors}
    assert list(errors) == [6, 7]
    assert "yesterday" in errors[6][0] and "飞走了" in errors[7][0]
    with pytest.raises(TrackingImportRejected):
        tracking_import(table=table(bad), by=clerk)
    assert not TrackingEvent.objects.exists() and not UnmatchedTrackingEvent.objects.exists()


def test_import_needs_the_warehouse_permission(shipped, make_user):
    with pytest.raises(PermissionRefused):
        tracking_import(table=table(CSV), by=make_user("sales"))


def test_the_upload_page_previews_then_imports(client_as, shipped):
    client = client_as("warehouse")
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"file": SimpleUploadedFile("track.csv", CSV.encode("gb18030"))})
    page = response.content.decode()
    assert response.status_code == 200 and "3 new events" in page and "1 for an unknown waybill" in page
    assert not TrackingEvent.objects.exists()
    token = client.session["import:tracking"]["token"]
    response = client.post(URL, {"commit": "1", "token": token})
    assert response.status_code == 302
    assert TrackingEvent.objects.count() == 3
    assert client.post(URL, {"commit": "1", "token": token}).status_code == 200  # a resent commit imports nothing more
    assert TrackingEvent.objects.count() == 3


def test_hostile_files_are_refused(client_as):
    client = client_as("warehouse")
    bomb = client.post(URL, {"file": SimpleUploadedFile("bomb.xlsx", bomb_workbook())})
    assert bomb.status_code in (400, 413)
    assert "zip bomb" in bomb.content.decode() or "unpack to more than" in bomb.content.decode()
    wrong = client.post(URL, {"file": SimpleUploadedFile("track.pdf", b"%PDF-1.4 hello")})
    assert wrong.status_code == 400 and "cannot be imported" in wrong.content.decode()
    no_header = client.post(URL, {"file": SimpleUploadedFile("track.csv", b"a,b\n1,2\n")})
    assert no_header.status_code == 400 and "Required columns are missing" in no_header.content.decode()


def test_sales_and_managers_cannot_import(client_as):
    assert client_as("sales").get(URL).status_code == 403
    assert client_as("manager").get(URL).status_code == 403


def test_the_import_page_in_chinese(client_as):
    client = client_as("warehouse")
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "导入物流轨迹" in page and "运单号" in page


# --- unmatched events ------------------------------------------------------------------------------


def test_an_unmatched_event_is_assigned_to_a_parcel_and_applied_like_a_push(client_as, shipped, clerk):
    tracking_import(table=table("运单号,时间,状态\nSF-1001,2026-11-03 10:00,已签收\nSF-1001,2026-11-02 10:00,运输中\n"), by=clerk)
    kept = UnmatchedTrackingEvent.objects.order_by("time")
    assert kept.count() == 2
    client = client_as("warehouse")
    listing = client.get(reverse("logistics:unmatched_list") + "?q=sf-1001").content.decode()
    assert "SF-1001" in listing and "Assign" in listing
    url = reverse("logistics:unmatched_assign", args=[kept.first().pk])
    assert "2 open events are applied" in client.get(url).content.decode()
    refused = client.post(url, with_token({"waybill": "NOPE1"}))
    assert refused.status_code == 422 and "No shipped parcel" in refused.content.decode()
    assert client.post(url, with_token({"waybill": "sf1001"})).status_code == 302
    assert TrackingEvent.objects.filter(shipment=shipped).count() == 2
    assert set(kept.values_list("outcome", flat=True)) == {UnmatchedOutcome.ASSIGNED}
    assert Shipment.objects.get(pk=shipped.pk).state == ShipmentState.DELIVERED
    with pytest.raises(DomainError, match="already reviewed"):
        unmatched_assign(event=kept.first(), waybill="SF1001", by=clerk)


def test_an_unmatched_event_is_dismissed_after_confirmation(client_as, clerk, make_user):
    tracking_import(table=table("运单号,时间,状态\nXX1,2026-11-03 10:00,运输中\n"), by=clerk)
    event = UnmatchedTrackingEvent.objects.get()
    with pytest.raises(PermissionRefused):
        unmatched_dismiss(event=event, by=make_user("manager"))
    client = client_as("warehouse")
    url = reverse("logistics:unmatched_dismiss", args=[event.pk])
    assert "Dismiss</button>" in client.get(url).content.decode()
    assert client.post(url, with_token()).status_code == 302
    event.refresh_from_db()
    assert event.outcome == UnmatchedOutcome.DISMISSED and event.resolved_at is not None
    assert "Every carrier event found its parcel." in client.get(reverse("logistics:unmatched_list")).content.decode()
    manager = client_as("manager")
    assert manager.get(reverse("logistics:unmatched_list") + "?state=dismissed").status_code == 200
    assert manager.get(url).status_code == 403
    assert client_as("sales").get(reverse("logistics:unmatched_list")).status_code == 403

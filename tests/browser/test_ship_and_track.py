"""A warehouse clerk picks an order by scanning, packs it in two parcels, ships it with two waybill
numbers and prints the labels; a signed Kuaidi100 push for each parcel delivers it, and the
customer's tracking page (no login) shows the waybills and the delivery."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from inventory.tests.factories import WarehouseFactory
from logistics.models import OrderTrackingToken, Shipment, ShipmentState
from logistics.tests.factories import allocated_order, carrier, stocked_product
from logistics.tracking.hooks import kuaidi100_sign
from orders.models import OrderStatus, SalesOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SALT = "browser-salt"


def signed_push(waybill: str, carrier_code: str) -> dict:
    param = json.dumps(
        {
            "status": "polling",
            "lastResult": {
                "nu": waybill,
                "com": carrier_code,
                "state": "3",
                "ischeck": "1",
                "data": [
                    {"time": "2026-12-01 10:00:00", "context": "已签收，签收人：前台", "areaName": "杭州"},
                    {"time": "2026-11-30 09:00:00", "context": "【上海】已揽收", "areaName": "上海"},
                ],
            },
        },
        ensure_ascii=False,
    )
    return {"param": param, "sign": kuaidi100_sign(param, SALT)}


def test_pick_by_scanning_pack_two_parcels_ship_two_waybills_then_a_signed_push_delivers(
    page, login, make_user, settings, browser, live_server
):
    settings.KUAIDI100_SALT = SALT
    cache.clear()  # the tracking page's rate limit starts afresh
    warehouse = WarehouseFactory(code="SH", name="上海主仓", priority=1)
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯", barcode="6901234567885")
    order = allocated_order(lines=[(tea, 2), (cup, 1)])
    zto = carrier("zhongtong")
    clerk = make_user("warehouse", username="clerk")

    login(clerk.username, "pw")
    page.goto(reverse("logistics:pick_queue"))
    page.locator("tr", has_text=order.number).get_by_role("link", name="Pick").click()
    page.get_by_role("button", name="Create shipment from SH").click()
    page.wait_for_selector("text=print the pick list")
    shipment = Shipment.objects.get(order=order)
    pick_list = page.request.get(reverse("logistics:shipment_document", args=[shipment.pk, "pick_list"]))
    assert pick_list.ok and pick_list.body().startswith(b"%PDF")

    def scan(code: str, parcel: int) -> None:
        page.fill("input[name=parcel]", str(parcel))
        page.fill("input[name=code]", code)
        page.press("input[name=code]", "Enter")
        page.wait_for_load_state()

    scan(tea.barcode, 1)
    scan(tea.barcode, 1)
    scan(cup.barcode, 2)
    assert "CUP-002: 1 of 1 packed (parcel 2)" in page.content()
    scan(cup.barcode, 2)  # one more than was picked: refused
    assert "1 more is too many" in page.content()

    page.fill("input[name=weight_1]", "1.2")
    page.fill("input[name=weight_2]", "0.6")
    page.get_by_role("button", name="Packed: save the weights").click()
    page.wait_for_selector(f"text=Shipment {shipment.number} is packed.")

    page.select_option("select[name=carrier]", str(zto.pk))
    page.fill("input[name=waybill_1]", "ZT20261130001")
    page.fill("input[name=waybill_2]", "ZT20261130002")
    page.get_by_role("button", name="Ship", exact=True).click()
    page.wait_for_selector(f"text=Shipment {shipment.number} has shipped.")
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.SHIPPED
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED

    label_link = page.get_by_role("link", name="Labels (PDF)")
    label = page.request.get(label_link.get_attribute("href"))
    assert label.ok and label.headers["content-type"] == "application/pdf" and label.body().startswith(b"%PDF")

    for waybill in ("ZT20261130001", "ZT20261130002"):
        answer = page.request.post("/hooks/tracking/kuaidi100/", form=signed_push(waybill, zto.code))
        assert answer.status == 200, answer.text()
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.DELIVERED
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DELIVERED

    token = OrderTrackingToken.objects.get(order=order).token
    customer = browser.new_context(base_url=live_server.url)  # no login: the customer only has the link
    public = customer.new_page()
    public.goto(reverse("tracking_page", args=[token]))
    text = public.content()
    assert order.number in text and "ZT20261130001" in text and "ZT20261130002" in text
    assert "已签收，签收人：前台" in text and "【上海】已揽收" in text
    with translation.override(order.customer.language or "en"):
        assert str(ShipmentState.DELIVERED.label) in text
    assert public.goto(reverse("tracking_page", args=["not-a-token-at-all"])).status == 404
    customer.close()

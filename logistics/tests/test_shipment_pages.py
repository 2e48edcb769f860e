"""The warehouse's shipment pages on a tablet: ready to pick, pick, scan, pack, ship, cancel; the
list's filters; who may see and do what; the home queues."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.stock.services import stock_verify_ledger
from logistics.models import Shipment, ShipmentState
from logistics.tests.factories import allocated_order, carrier, packed_shipment, ship, stocked_product
from orders.models import OrderStatus, SalesOrder
from tests.queries import queries_for
from tests.submissions import with_token  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(warehouse):
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯")
    return allocated_order(lines=[(tea, 3), (cup, 1)])


def test_a_warehouse_user_picks_scans_packs_two_parcels_and_ships_with_two_waybills_through_the_pages(
    client_as, order, warehouse
):
    client = client_as("warehouse")
    queue = client.get(reverse("logistics:pick_queue"))
    assert queue.status_code == 200 and order.number in queue.content.decode()

    form_url = reverse("logistics:shipment_create", args=[order.pk]) + f"?warehouse={warehouse.pk}"
    assert "龙井茶 250克" in client.get(form_url).content.decode()
    tea_line, cup_line = order.lines.order_by("position")
    response = client.post(form_url, with_token({"warehouse": warehouse.pk, f"line_{tea_line.pk}": 3, f"line_{cup_line.pk}": 1}))
    shipment = Shipment.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == shipment.get_absolute_url()

    detail = client.get(shipment.get_absolute_url()).content.decode()
    assert "Start picking" in detail and "Cancel shipment" in detail and "Ship</button>" not in detail
    scan = reverse("logistics:shipment_scan", args=[shipment.pk])
    for code, parcel in [("6901234567892", 1), ("TEA-001", 1), ("tea-001", 1), ("CUP-002", 2)]:
        assert client.post(scan, with_token({"code": code, "parcel": parcel, "quantity": 1})).status_code == 302
    refused = client.post(scan, with_token({"code": "CUP-002", "parcel": 2, "quantity": 1}))
    assert refused.status_code == 422
    assert "1 more is too many" in refused.content.decode()

    pack = reverse("logistics:shipment_pack", args=[shipment.pk])
    assert client.post(pack, {"weight_1": "2.5", "weight_2": "0.8", "length_2": "30"}).status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.PACKED

    page = client.get(shipment.get_absolute_url()).content.decode()
    assert "Hand to the carrier" in page and "Cancel shipment" in page
    response = client.post(
        reverse("logistics:shipment_ship", args=[shipment.pk]),
        {"carrier": carrier("zhongtong").pk, "waybill_1": "ZT7001", "waybill_2": "ZT7002", "cod_amount": "120.00"},
    )
    assert response.status_code == 302
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.state == ShipmentState.SHIPPED
    assert list(shipment.parcels.values_list("waybill_number", flat=True)) == ["ZT7001", "ZT7002"]
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert stock_verify_ledger().ok
    page = client.get(shipment.get_absolute_url()).content.decode()
    assert "https://www.kuaidi100.com/chaxun?com=zhongtong&amp;nu=ZT7002" in page
    assert "Cancel shipment" not in page and "Hand to the carrier" not in page


def test_shipping_without_waybills_shows_the_error_on_the_form(client_as, order, warehouse):
    client = client_as("warehouse")
    shipment = packed_shipment(order=order, warehouse=warehouse, by=client.user, parcels=2)
    response = client.post(
        reverse("logistics:shipment_ship", args=[shipment.pk]),
        {"carrier": carrier().pk, "waybill_1": "SF1", "waybill_2": "SF1"},
    )
    assert response.status_code == 422
    assert "Each parcel needs its own waybill number." in response.content.decode()
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.PACKED


def test_cancel_asks_for_confirmation_then_keeps_the_reservations(client_as, order, warehouse):
    client = client_as("warehouse")
    shipment = packed_shipment(order=order, warehouse=warehouse, by=client.user)
    url = reverse("logistics:shipment_cancel", args=[shipment.pk])
    assert "Cancel the shipment" in client.get(url).content.decode()
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.PACKED

    assert client.post(url, {"note": "wrong box"}).status_code == 302

    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.CANCELLED
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    assert order.number in client.get(reverse("logistics:pick_queue")).content.decode()


def test_sales_see_shipments_but_cannot_pick_scan_ship_or_cancel(client_as, make_user, order, warehouse):
    shipment = packed_shipment(order=order, warehouse=warehouse, by=make_user("warehouse"))
    client = client_as("sales")
    assert client.get(shipment.get_absolute_url()).status_code == 200
    page = client.get(shipment.get_absolute_url()).content.decode()
    assert "Cancel shipment" not in page and "Hand to the carrier" not in page
    assert client.get(reverse("logistics:shipment_create", args=[order.pk])).status_code == 403
    assert client.post(reverse("logistics:shipment_ship", args=[shipment.pk]), {}).status_code == 403
    assert client.post(reverse("logistics:shipment_cancel", args=[shipment.pk]), {}).status_code == 403
    assert client.post(reverse("logistics:shipment_scan", args=[shipment.pk]), {"code": "x"}).status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.PACKED


def test_finance_cannot_see_shipments(client_as):
    assert client_as("finance").get(reverse("logistics:shipment_list")).status_code == 403


def test_the_list_filters_by_state_carrier_and_waybill_and_pages(client_as, make_user, warehouse):
    clerk = make_user("warehouse")
    product = stocked_product(stock={warehouse: 100})
    shipped = []
    for i in range(3):
        order = allocated_order(lines=[(product, 1)])
        shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk)
        if i < 2:
            shipped.append(ship(shipment, by=clerk, waybills=[f"SFW{i}"]))
    client = client_as("manager")
    url = reverse("logistics:shipment_list")

    def numbers(**params):
        body = client.get(url, params).content.decode()
        return sorted(s.number for s in Shipment.objects.all() if s.number in body)

    assert len(numbers()) == 3
    assert numbers(state="shipped") == sorted(s.number for s in shipped)
    assert numbers(q="SFW1") == [shipped[1].number]
    assert numbers(carrier=carrier("ems").pk) == []
    assert numbers(warehouse=warehouse.pk, state="packed") == sorted(
        set(Shipment.objects.values_list("number", flat=True)) - {s.number for s in shipped}
    )


def test_the_list_and_queue_take_a_constant_number_of_queries(client_as, make_user, warehouse):
    clerk = make_user("warehouse")
    client = client_as("warehouse")
    product = stocked_product(stock={warehouse: 100})

    def make(n):
        for _i in range(n):
            packed_shipment(order=allocated_order(lines=[(product, 1)]), warehouse=warehouse, by=clerk)
            allocated_order(lines=[(product, 1)])

    make(1)
    small = (
        queries_for(lambda: client.get(reverse("logistics:shipment_list"))),
        queries_for(lambda: client.get(reverse("logistics:pick_queue"))),
    )
    make(8)
    large = (
        queries_for(lambda: client.get(reverse("logistics:shipment_list"))),
        queries_for(lambda: client.get(reverse("logistics:pick_queue"))),
    )
    assert small == large


def test_warehouse_home_shows_ready_to_pick_and_packed_queues(client_as, make_user, order, warehouse):
    client = client_as("warehouse")
    body = client.get(reverse("home")).content.decode()
    assert "Ready to pick" in body and order.number in body
    packed_shipment(order=order, warehouse=warehouse, by=make_user("warehouse"))
    body = client.get(reverse("home")).content.decode()
    assert "Packed, not shipped" in body
    assert "Packed, not shipped" not in client_as("sales").get(reverse("home")).content.decode()


def test_the_order_page_lists_its_shipments_with_waybills_for_sales(client_as, make_user, order, warehouse):
    clerk = make_user("warehouse")
    tea_line, _cup_line = order.lines.order_by("position")
    shipped = ship(
        packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={tea_line.pk: 3}), by=clerk, waybills=["SF555"]
    )

    body = client_as("sales").get(order.get_absolute_url()).content.decode()

    assert 'id="shipments"' in body
    assert shipped.number in body and "SF555" in body and "顺丰速运 SF Express" in body
    assert "Reserved units wait to be picked." not in body  # sales do not pick
    warehouse_view = client_as("warehouse").get(order.get_absolute_url()).content.decode()
    assert "Reserved units wait to be picked." in warehouse_view  # the cup is still reserved


def test_the_order_page_without_order_panels_has_no_shipments_section(client_as, order, settings):
    settings.ORDER_PAGE_PANELS = []
    body = client_as("sales").get(order.get_absolute_url()).content.decode()
    assert 'id="shipments"' not in body


def test_the_detail_page_takes_as_many_queries_for_20_lines_in_3_parcels_as_for_2_in_1(client_as, make_user, warehouse):
    clerk = make_user("warehouse")
    client = client_as("warehouse")

    def page_queries(lines: int, parcels: int) -> tuple[int, int]:
        products = [stocked_product(stock={warehouse: 5}) for _i in range(lines)]
        shipment = packed_shipment(
            order=allocated_order(lines=[(p, 1) for p in products]), warehouse=warehouse, by=clerk, parcels=parcels
        )
        packed = queries_for(lambda: client.get(shipment.get_absolute_url()))
        ship(shipment, by=clerk)
        return packed, queries_for(lambda: client.get(shipment.get_absolute_url()))

    client.get(reverse("logistics:shipment_list"))  # the session and permissions are warm
    assert page_queries(2, 1) == page_queries(20, 3)


def test_a_pick_or_a_scan_sent_twice_acts_once(client_as, order, warehouse):
    """A double tap (or a resent request) creates one shipment and packs a scanned unit once."""
    client = client_as("warehouse")
    tea_line = order.lines.order_by("position").first()
    form_url = reverse("logistics:shipment_create", args=[order.pk]) + f"?warehouse={warehouse.pk}"
    pick = with_token({"warehouse": warehouse.pk, f"line_{tea_line.pk}": 2})
    assert client.post(form_url, pick).status_code == 302
    assert client.post(form_url, pick).status_code == 302  # the replay
    shipment = Shipment.objects.get(order=order)
    client.post(reverse("logistics:shipment_start_picking", args=[shipment.pk]))
    scan = with_token({"code": "TEA-001", "parcel": 1, "quantity": 1})
    url = reverse("logistics:shipment_scan", args=[shipment.pk])
    assert client.post(url, scan).status_code == 302
    assert client.post(url, scan).status_code == 302  # the replay
    assert shipment.lines.get().quantity_packed == 1

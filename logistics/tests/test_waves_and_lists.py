"""Wave picking from the pick queue (one shipment per order, one pick list in bin order), the
ready-to-pick queue aggregated in SQL, the shipment list's queues and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from config.errors import DomainError, PermissionRefused
from inventory.tests.factories import WarehouseFactory
from logistics.models import PickWave, Shipment, ShipmentLine, ShipmentState
from logistics.shipments.selectors import orders_waiting_to_pick, pick_queue_page, ready_to_pick
from logistics.shipments.services import shipment_create
from logistics.shipments.wave_views import WAVE_PICK_LIST
from logistics.shipments.waves import wave_create, wave_pick_rows
from logistics.tests.factories import allocated_order, packed_shipment, set_location, ship, stocked_product
from tests.downloads import body
from tests.queries import count_queries
from tests.submissions import with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(warehouse):
    tea = stocked_product(stock={warehouse: 50}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")
    cup = stocked_product(stock={warehouse: 50}, sku="CUP-002", name="青花瓷茶杯")
    pot = stocked_product(stock={warehouse: 50}, sku="POT-003", name="紫砂壶")
    set_location(tea, warehouse, "C-01-1")
    set_location(cup, warehouse, "A-02-3")
    return tea, cup, pot  # the pot has no bin


@pytest.fixture
def orders(products):
    tea, cup, pot = products
    return [
        allocated_order(lines=[(tea, 2), (cup, 1)]),
        allocated_order(lines=[(cup, 3), (pot, 1)]),
        allocated_order(lines=[(tea, 1)]),
    ]


def test_a_wave_makes_one_shipment_per_order_and_one_pick_list_in_bin_order(orders, warehouse, clerk):
    first, second, _third = orders
    wave = wave_create(warehouse=warehouse, order_ids=[second.pk, first.pk], by=clerk)

    shipments = list(wave.shipments.order_by("order_id"))
    assert [s.order_id for s in shipments] == [first.pk, second.pk]
    assert all(s.state == ShipmentState.PICKING for s in shipments)
    assert [s.unit_count for s in shipments] == [3, 4]
    rows = [(r.location, r.line.product.sku, r.line.quantity, r.line.shipment.order.number) for r in wave_pick_rows(wave=wave)]
    assert rows == [
        ("A-02-3", "CUP-002", 1, first.number),
        ("A-02-3", "CUP-002", 3, second.number),
        ("C-01-1", "TEA-001", 2, first.number),
        ("", "POT-003", 1, second.number),
    ]
    assert [r.order.pk for r in ready_to_pick()] == [orders[2].pk]


def test_a_wave_with_an_order_picked_meanwhile_makes_nothing(orders, warehouse, clerk):
    first, second, _third = orders
    shipment_create(order=first, warehouse=warehouse, quantities={line.pk: line.quantity for line in first.lines.all()}, by=clerk)
    with pytest.raises(DomainError) as refused:
        wave_create(warehouse=warehouse, order_ids=[first.pk, second.pk], by=clerk)
    assert refused.value.code == "not_pickable" and first.number in str(refused.value)
    assert not PickWave.objects.exists()
    assert Shipment.objects.count() == 1


def test_only_warehouse_staff_make_waves(orders, warehouse, make_user):
    with pytest.raises(PermissionRefused):
        wave_create(warehouse=warehouse, order_ids=[orders[0].pk], by=make_user("sales"))


def test_ticking_orders_in_the_queue_makes_a_wave_and_its_pick_list(client_as, orders, warehouse):
    client = client_as("warehouse")
    queue = client.get(reverse("logistics:pick_queue"), {"warehouse": warehouse.pk}).content.decode()
    assert f'value="{orders[0].pk}:{warehouse.pk}"' in queue and "Pick the ticked orders in one wave" in queue
    nothing = client.post(reverse("logistics:wave_create"), with_token({"warehouse": warehouse.pk}))
    assert nothing.status_code == 302 and not PickWave.objects.exists()

    picks = [f"{orders[0].pk}:{warehouse.pk}", f"{orders[2].pk}:{warehouse.pk}"]
    data = with_token({"pick": picks, "warehouse": warehouse.pk})
    response = client.post(reverse("logistics:wave_create"), data)
    wave = PickWave.objects.get()
    assert response.status_code == 302 and response["Location"] == wave.get_absolute_url()
    assert client.post(reverse("logistics:wave_create"), data).status_code == 302  # a double click makes nothing more
    assert PickWave.objects.count() == 1 and Shipment.objects.count() == 2

    page = client.get(wave.get_absolute_url()).content.decode()
    assert orders[0].number in page and orders[2].number in page
    pdf = client.get(reverse("logistics:wave_pick_list", args=[wave.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_as("sales").post(reverse("logistics:wave_create"), with_token({"pick": picks})).status_code == 403


def test_a_wave_over_two_warehouses_is_refused(client_as, products, warehouse):
    second = WarehouseFactory(code="BJ", priority=2)
    tea = stocked_product(stock={second: 5}, sku="ONLY-BJ")
    here, there = allocated_order(lines=[(products[0], 1)]), allocated_order(lines=[(tea, 1)])
    client = client_as("warehouse")
    response = client.post(
        reverse("logistics:wave_create"), with_token({"pick": [f"{here.pk}:{warehouse.pk}", f"{there.pk}:{second.pk}"]})
    )
    assert response.status_code == 302 and not PickWave.objects.exists()
    assert "one warehouse" in client.get(response["Location"]).content.decode()


def test_the_wave_pick_list_names_every_row_in_chinese(orders, warehouse, clerk):
    from config.documents import render_document_html

    wave = wave_create(warehouse=warehouse, order_ids=[orders[1].pk], by=clerk)
    html = render_document_html(WAVE_PICK_LIST, {"wave": wave, "rows": wave_pick_rows(wave=wave), "order_count": 1}, "zh-hans")
    assert html.count('class="pick-row"') == 2 and "紫砂壶" in html and "拣货单" in html


def test_the_pick_queue_counts_only_lines_and_units_no_shipment_holds_in_one_query(orders, warehouse, clerk):
    first = orders[0]
    tea_line = first.lines.order_by("position").first()
    shipment_create(order=first, warehouse=warehouse, quantities={tea_line.pk: 2}, by=clerk)

    with count_queries() as queries:
        page = pick_queue_page(size=50)
    assert len(queries.captured_queries) == 2  # the page's orders, their rows
    by_order = {row["order_line__order"]: (row["lines"], row["units"]) for row in page.rows}
    assert by_order == {first.pk: (1, 1), orders[1].pk: (2, 4), orders[2].pk: (1, 1)}
    assert (page.has_previous, page.has_next) == (False, False)


def _keys(rows):
    return [(row["order_line__order"], row["warehouse_code"]) for row in rows]


@pytest.fixture
def two_warehouse_queue(clerk, warehouse):
    """Seven orders: the second held in two warehouses (two rows), the third picked whole (no row)."""
    second = WarehouseFactory(code="BJ", priority=2)
    tea = stocked_product(stock={warehouse: 20})
    split = stocked_product(stock={warehouse: 1, second: 5})
    made = [allocated_order(lines=[(tea, 1)]), allocated_order(lines=[(split, 6)])]
    made += [allocated_order(lines=[(tea, 1)]) for _i in range(5)]
    picked = made[2]
    shipment_create(order=picked, warehouse=warehouse, quantities={line.pk: 1 for line in picked.lines.all()}, by=clerk)
    return made, second


def test_the_pick_queue_pages_by_order_forward_and_back_without_skipping_or_repeating(two_warehouse_queue, warehouse):
    made, second = two_warehouse_queue
    whole = pick_queue_page(size=100).rows
    assert (
        _keys(whole)
        == [
            (made[0].pk, warehouse.code),
            (made[1].pk, second.code),  # BJ before SH: the rows of one order go by warehouse code
            (made[1].pk, warehouse.code),
            *[(order.pk, warehouse.code) for order in made[3:]],
        ]
    )
    for size in (1, 2, 3, 4):
        pages, page = [], pick_queue_page(size=size)
        while True:
            pages.append(page)
            if not page.has_next:
                break
            page = pick_queue_page(size=size, after=page.last)
        assert [row for page in pages for row in page.rows] == whole  # every row once, in order, across page ends
        assert pages[0].has_previous is False and all(page.has_previous for page in pages[1:])
        back = [pages[-1]]
        while back[-1].has_previous:
            back.append(pick_queue_page(size=size, before=back[-1].first))
        assert [row for page in reversed(back) for row in page.rows] == whole  # and back again to the first row
        assert all(page.has_next for page in back[1:])

    # An order held in two warehouses keeps its two rows on one page.
    assert _keys(pick_queue_page(size=1, after=made[0].pk).rows) == [(made[1].pk, second.code), (made[1].pk, warehouse.code)]
    assert _keys(pick_queue_page(size=1, before=made[3].pk).rows) == [(made[1].pk, second.code), (made[1].pk, warehouse.code)]
    # One warehouse's queue; a position whose order is gone starts from the first page.
    assert _keys(pick_queue_page(size=10, warehouse_id=second.pk).rows) == [(made[1].pk, second.code)]
    assert pick_queue_page(size=2, after=10**17).rows == whole[:3]
    assert pick_queue_page(size=2, before=10**17).rows == whole[:3]


def test_the_homes_ready_to_pick_rows_are_the_queues_first_rows(two_warehouse_queue, client_as):
    made, _second = two_warehouse_queue
    home = client_as("warehouse").get(reverse("home")).content.decode()
    # The first five orders' rows (the second's two among them); neither the picked one nor the seventh.
    assert [order.number in home for order in made] == [True, True, False, True, True, True, False]
    # A queue bigger than the preview: the home counts the orders holding reserved stock, the one being picked too
    # (its units are on a shipment not yet sent: still reserved).
    assert orders_waiting_to_pick(cap=999) == 7
    assert orders_waiting_to_pick(cap=1) == 2  # counted no further than the cap + 1


def test_the_pick_queue_page_links_to_the_next_and_previous_rows(client_as, warehouse, clerk, monkeypatch):
    monkeypatch.setattr("logistics.shipments.views.QUEUE_PAGE_SIZE", 4)
    tea = stocked_product(stock={warehouse: 100})
    made = [allocated_order(lines=[(tea, 1)]) for _i in range(6)]
    client = client_as("warehouse")
    first = client.get(reverse("logistics:pick_queue"))
    assert first.content.decode().count('name="pick"') == 4 and made[0].number in first.content.decode()
    after = first.context["page"].last
    assert after == made[3].pk and f"after={after}" in first.content.decode() and "before=" not in first.content.decode()
    second = client.get(reverse("logistics:pick_queue"), {"after": after}).content.decode()
    assert second.count('name="pick"') == 2 and made[4].number in second and made[5].number in second
    assert made[3].number not in second and "Next" not in second and "Previous" in second
    back = client.get(reverse("logistics:pick_queue"), {"before": made[4].pk}).content.decode()
    assert [order.number in back for order in made] == [True, True, True, True, False, False]
    # Whatever a link is made to say, the page answers: the first page, or nothing more to pick.
    for hostile in ("x", "-1", "١", "9" * 40, "1.5", "0x10"):
        response = client.get(reverse("logistics:pick_queue"), {"after": hostile, "warehouse": hostile})
        assert response.status_code == 200 and made[0].number in response.content.decode()
    for order in made:
        shipment_create(order=order, warehouse=warehouse, quantities={line.pk: 1 for line in order.lines.all()}, by=clerk)
    emptied = client.get(reverse("logistics:pick_queue"), {"after": after}).content.decode()
    assert "Nothing more is waiting to be picked." in emptied


def test_the_warehouse_home_shows_packed_and_shipped_not_delivered_queues(client_as, orders, warehouse, clerk):
    shipped = ship(packed_shipment(order=orders[0], warehouse=warehouse, by=clerk), by=clerk)
    home = client_as("warehouse").get(reverse("home")).content.decode()
    assert "Shipped, not delivered" in home and shipped.number in home
    listing = client_as("warehouse").get(reverse("logistics:shipment_list"), {"state": "shipped"}).content.decode()
    assert shipped.number in listing


def test_the_shipment_list_exports_what_its_filters_show(client_as, orders, warehouse, clerk):
    shipped = ship(packed_shipment(order=orders[0], warehouse=warehouse, by=clerk), by=clerk)
    draft = shipment_create(
        order=orders[1], warehouse=warehouse, quantities={line.pk: line.quantity for line in orders[1].lines.all()}, by=clerk
    )
    client = client_as("warehouse")
    response = client.get(reverse("logistics:shipment_export"), {"format": "csv", "state": "shipped"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Number", "Order"] and [row[0] for row in rows[1:]] == [shipped.number]
    assert (rows[1][4], rows[1][5]) == ("Shipped", shipped.carrier.name)
    workbook = load_workbook(io.BytesIO(body(client.get(reverse("logistics:shipment_export"), {"format": "xlsx"}))))
    numbers = sorted(row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True))
    assert numbers == sorted([shipped.number, draft.number])
    assert client.get(reverse("logistics:shipment_export"), {"format": "doc"}).status_code == 400
    assert client.get(reverse("logistics:shipment_export"), {"state": "nonsense"}).status_code == 400
    assert client_as("sales").get(reverse("logistics:shipment_export")).status_code == 403
    assert ShipmentLine.objects.filter(shipment=draft).count() == 2

"""Stock count pages: permissions per role, typing and scanning counts, bad input, posting, query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.actors import Actor
from inventory.counts.models import StockCount, StockCountState
from inventory.counts.services import stock_count_record
from inventory.models import Reservation, ReservationState, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, approved_order, open_count, stock_put
from orders.fulfilment.services import order_allocate
from tests.queries import assert_constant_queries
from tests.submissions import with_token

pytestmark = pytest.mark.django_db

ALLOCATION = Actor.system("allocation")


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="BJ", name="北京仓")


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


@pytest.fixture
def count(warehouse, clerk):
    product = ProductFactory(sku="TEA-1", name="龙井茶 250克", barcode="6901234567892")
    stock_put(product=product, warehouse=warehouse, quantity=10)
    return open_count(warehouse=warehouse, by=clerk)


def urls_of(count):
    return {
        "list": reverse("inventory:count_list"),
        "create": reverse("inventory:count_create"),
        "detail": count.get_absolute_url(),
        "review": reverse("inventory:count_review", args=[count.pk]),
        "sheet": reverse("inventory:count_sheet", args=[count.pk]),
    }


# --- who may see and do what --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance"])
def test_roles_outside_the_warehouse_get_403_on_every_count_page(client_as, count, role):
    client = client_as(role)
    for name, url in urls_of(count).items():
        assert client.get(url).status_code == 403, name
    for name in ["count_scan", "count_post", "count_cancel"]:
        assert client.post(reverse(f"inventory:{name}", args=[count.pk]), {"code": "TEA-1", "reason": "x"}).status_code == 403
    assert client.post(count.get_absolute_url(), {"line": [], "reason": "x"}).status_code == 403
    count.refresh_from_db()
    assert count.state == StockCountState.OPEN


def test_manager_may_look_at_counts_but_not_count(client_as, count):
    client = client_as("manager")
    assert client.get(reverse("inventory:count_list")).status_code == 200
    body = client.get(count.get_absolute_url()).content.decode()
    assert "龙井茶 250克" in body
    assert 'name="code"' not in body  # no scan box
    assert client.get(reverse("inventory:count_create")).status_code == 403
    line = count.lines.get()
    assert client.post(count.get_absolute_url(), {"line": [line.pk], f"counted-{line.pk}": "3"}).status_code == 403
    assert client.post(reverse("inventory:count_scan", args=[count.pk]), {"code": "TEA-1"}).status_code == 403


def test_navigation_links_counts_for_warehouse_and_manager_only(client_as):
    url = reverse("inventory:count_list")
    assert url in client_as("warehouse").get(reverse("home")).content.decode()
    assert url in client_as("manager").get(reverse("home")).content.decode()
    assert url not in client_as("sales").get(reverse("home")).content.decode()


# --- list --------------------------------------------------------------------------------------


def test_empty_list_invites_to_open_a_count(client_as):
    body = client_as("warehouse").get(reverse("inventory:count_list")).content.decode()
    assert "No stock count yet." in body
    assert reverse("inventory:count_create") in body


def test_list_filters_by_warehouse_and_state(client_as, clerk, count):
    other = open_count(warehouse=WarehouseFactory(code="GZ"), by=clerk)
    client = client_as("warehouse")
    body = client.get(reverse("inventory:count_list"), {"warehouse": count.warehouse_id}).content.decode()
    assert count.number in body and other.number not in body
    body = client.get(reverse("inventory:count_list"), {"state": "posted"}).content.decode()
    assert "No count matches these filters." in body


@pytest.mark.parametrize("params", [{"warehouse": "abc"}, {"state": "nonsense"}, {"page": "9999"}, {"ordering": "evil"}])
def test_list_survives_bad_filter_values(client_as, count, params):
    response = client_as("warehouse").get(reverse("inventory:count_list"), params)
    assert response.status_code == 200


def test_count_list_queries_do_not_grow_with_counts(client_as, clerk):
    client = client_as("warehouse")
    made = []

    def make_rows(n):
        while len(made) < n:
            made.append(open_count(warehouse=WarehouseFactory(), by=clerk))

    ProductFactory()
    assert_constant_queries(make_rows, lambda: client.get(reverse("inventory:count_list")), sizes=(1, 8))


# --- opening -----------------------------------------------------------------------------------


def test_warehouse_clerk_opens_a_count_through_the_form(client_as, warehouse):
    ProductFactory(sku="PEN-1")
    response = client_as("warehouse").post(
        reverse("inventory:count_create"), with_token({"warehouse": warehouse.pk, "sku_prefix": "PEN"})
    )
    count = StockCount.objects.get()
    assert response.status_code == 302 and response.url == count.get_absolute_url()
    assert count.lines.get().product.sku == "PEN-1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"warehouse": "999999"}, "Select a valid choice."),
        ({"warehouse": "x"}, "Select a valid choice."),
        ({"warehouse": "WAREHOUSE", "sku_prefix": "NONE-SUCH"}, "nothing to count"),
        ({"warehouse": "WAREHOUSE", "sku_prefix": "x" * 41}, "at most 40 characters"),
    ],
)
def test_opening_a_count_with_bad_input_shows_why(client_as, warehouse, data, message):
    ProductFactory()
    data = {k: (warehouse.pk if v == "WAREHOUSE" else v) for k, v in data.items()}
    response = client_as("warehouse").post(reverse("inventory:count_create"), with_token(data))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StockCount.objects.exists()


# --- counting by typing ------------------------------------------------------------------------


def test_typed_quantities_are_saved_and_the_page_shows_the_difference(client_as, count):
    client = client_as("warehouse")
    line = count.lines.get()
    url = count.get_absolute_url()
    response = client.post(url, {"line": [line.pk], f"counted-{line.pk}": "8"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.counted_quantity == 8
    body = client.get(url).content.decode()
    assert "Counted quantities saved." in body
    assert "-2" in body


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Enter a whole number."),
        ("-3", "greater than or equal to 0"),
        ("1e3", "Enter a whole number."),
        ("99999999999999999999", "less than or equal to 10000000"),
        ("2.5", "Enter a whole number."),
    ],
)
def test_bad_typed_quantities_are_refused_and_nothing_is_saved(client_as, count, value, message):
    other = ProductFactory(sku="TEA-2")
    count_lines = list(count.lines.all())
    extra = count.lines.model.objects.create(count=count, product=other, expected_quantity=0)
    client = client_as("warehouse")
    line = count_lines[0]
    response = client.post(
        count.get_absolute_url(), {"line": [line.pk, extra.pk], f"counted-{line.pk}": value, f"counted-{extra.pk}": "4"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body and "nothing was saved" in body
    assert not count.lines.filter(counted_quantity__isnull=False).exists()


def test_garbled_line_ids_are_refused_with_a_message(client_as, count):
    response = client_as("warehouse").post(count.get_absolute_url(), {"line": ["1; DROP TABLE"]}, follow=True)
    assert response.status_code == 200
    assert "could not be read" in response.content.decode()


def test_a_line_of_another_count_cannot_be_saved_through_this_one(client_as, clerk, count):
    ProductFactory()
    other = open_count(warehouse=WarehouseFactory(), by=clerk)
    foreign = other.lines.first()
    response = client_as("warehouse").post(
        count.get_absolute_url(), {"line": [foreign.pk], f"counted-{foreign.pk}": "5"}, follow=True
    )
    assert "do not belong" in response.content.decode()
    foreign.refresh_from_db()
    assert foreign.counted_quantity is None


def test_count_detail_queries_do_not_grow_with_lines(client_as, warehouse, clerk):
    client = client_as("warehouse")
    state = {}

    def make_rows(n):
        for _ in range(n):
            product = ProductFactory()
            stock_put(product=product, warehouse=warehouse, quantity=3)
        if "count" in state:
            from inventory.counts.services import stock_count_cancel

            stock_count_cancel(count=state["count"], by=clerk, reason="next size")
        state["count"] = count = open_count(warehouse=warehouse, by=clerk)
        stock_count_record(count=count, quantities={line.pk: 2 for line in count.lines.all()}, by=clerk)
        # movements after opening, so the "moved" marks are part of what is measured
        for line in count.lines.select_related("product"):
            stock_put(product=line.product, warehouse=warehouse, quantity=1)

    def view():
        count = state["count"]
        assert client.get(count.get_absolute_url()).status_code == 200
        assert client.get(reverse("inventory:count_review", args=[count.pk])).status_code == 200

    assert_constant_queries(make_rows, view, sizes=(1, 10))


# --- counting by scanning ----------------------------------------------------------------------


def test_scanning_with_htmx_adds_one_and_swaps_the_row(client_as, count):
    client = client_as("warehouse")
    url = reverse("inventory:count_scan", args=[count.pk])
    client.post(url, {"code": "6901234567892"}, headers={"HX-Request": "true"})
    response = client.post(url, {"code": "6901234567892"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    line = count.lines.get()
    assert response.status_code == 200
    assert "TEA-1 龙井茶 250克: counted 2" in body
    assert f'<tr id="line-{line.pk}" hx-swap-oob="true"' in body
    assert f'name="counted-{line.pk}"' in body and 'value="2"' in body
    line.refresh_from_db()
    assert line.counted_quantity == 2


@pytest.mark.parametrize(
    ("code", "message"), [("404404", "No product has the barcode or SKU"), ("", "Scan a barcode"), ("x" * 500, "Scan a barcode")]
)
def test_scanning_bad_codes_gives_a_message_not_an_error(client_as, count, code, message):
    response = client_as("warehouse").post(
        reverse("inventory:count_scan", args=[count.pk]), {"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert count.lines.get().counted_quantity is None


def test_scanning_without_javascript_redirects_with_a_message(client_as, count):
    response = client_as("warehouse").post(reverse("inventory:count_scan", args=[count.pk]), {"code": "TEA-1"}, follow=True)
    assert response.redirect_chain[-1][0] == count.get_absolute_url()
    assert "counted 1" in response.content.decode()


def test_scan_page_keeps_the_focus_in_the_scan_field(client_as, count):
    body = client_as("warehouse").get(count.get_absolute_url()).content.decode()
    assert 'id="scan-code"' in body and "autofocus" in body
    assert "js/inventory_counts.js" in body
    assert 'hx-target="#scan-result"' in body


# --- review and post ---------------------------------------------------------------------------


def test_review_shows_the_difference_in_units_and_value_then_posting_adjusts_stock(client_as, count):
    client = client_as("warehouse")
    line = count.lines.get()
    client.post(count.get_absolute_url(), {"line": [line.pk], f"counted-{line.pk}": "7"})
    review = client.get(reverse("inventory:count_review", args=[count.pk])).content.decode()
    assert "-3" in review and "-180.00" in review  # 3 × cost 60.00
    assert "data-confirm" in review

    response = client.post(reverse("inventory:count_post", args=[count.pk]), with_token(), follow=True)

    assert "is posted" in response.content.decode()
    assert StockLevel.objects.get(product=line.product, warehouse=count.warehouse).on_hand == 7
    movement = StockMovement.objects.get(document=count.number)
    assert (movement.kind, movement.quantity, movement.created_by) == ("adjustment", -3, client.user)


def test_review_warns_about_stock_that_moved_since_opening(client_as, count):
    line = count.lines.get()
    stock_put(product=line.product, warehouse=count.warehouse, quantity=2)
    client = client_as("warehouse")
    client.post(count.get_absolute_url(), {"line": [line.pk], f"counted-{line.pk}": "12"})
    for url in (count.get_absolute_url(), reverse("inventory:count_review", args=[count.pk])):
        body = client.get(url).content.decode()
        assert "moved" in body and "↻ +2" in body


def test_a_count_below_reserved_warns_on_review_then_posts_and_releases_the_newest_reservation(client_as, count):
    line = count.lines.get()  # TEA-1: 10 on hand
    older = order_allocate(order=approved_order(lines=[(line.product, 5)]), by=ALLOCATION)
    newer = order_allocate(order=approved_order(lines=[(line.product, 4)]), by=ALLOCATION)
    client = client_as("warehouse")
    client.post(count.get_absolute_url(), {"line": [line.pk], f"counted-{line.pk}": "7"})

    review = client.get(reverse("inventory:count_review", args=[count.pk])).content.decode()
    assert "Posting releases these reservations" in review and "TEA-1: 2" in review

    response = client.post(reverse("inventory:count_post", args=[count.pk]), with_token(), follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == count.get_absolute_url()
    assert body.count("2 reserved units of TEA-1 released.") == 2  # the message and the timeline
    count.refresh_from_db()
    assert count.state == StockCountState.POSTED
    level = StockLevel.objects.get(product=line.product, warehouse=count.warehouse)
    assert (level.on_hand, level.reserved) == (7, 7)
    held = dict(
        Reservation.objects.filter(product=line.product, state=ReservationState.ACTIVE).values_list(
            "order_line__order", "quantity"
        )
    )
    assert held == {older.pk: 5, newer.pk: 2}


def test_posting_with_uncounted_lines_asks_for_the_checkbox(client_as, count):
    ProductFactory(sku="TEA-9")
    extra = count.lines.model.objects.create(count=count, product=ProductFactory(), expected_quantity=0)
    client = client_as("warehouse")
    line = count.lines.get(product__sku="TEA-1")
    client.post(count.get_absolute_url(), {"line": [line.pk], f"counted-{line.pk}": "10"})
    review = client.get(reverse("inventory:count_review", args=[count.pk])).content.decode()
    assert 'name="allow_uncounted"' in review
    response = client.post(reverse("inventory:count_post", args=[count.pk]), with_token(), follow=True)
    assert "1 line has no counted quantity" in response.content.decode()
    response = client.post(reverse("inventory:count_post", args=[count.pk]), with_token({"allow_uncounted": "on"}), follow=True)
    assert "is posted" in response.content.decode()
    extra.refresh_from_db()
    assert extra.adjustment_quantity is None


def test_posting_an_open_count_twice_or_by_get_is_refused(client_as, count):
    client = client_as("warehouse")
    assert client.get(reverse("inventory:count_post", args=[count.pk])).status_code == 405
    response = client.post(reverse("inventory:count_post", args=[count.pk]), with_token(), follow=True)
    assert "cannot do" in response.content.decode()


def test_cancelling_from_the_page_needs_a_reason(client_as, count):
    client = client_as("warehouse")
    response = client.post(reverse("inventory:count_cancel", args=[count.pk]), {"reason": ""}, follow=True)
    assert "Say why" in response.content.decode()
    count.refresh_from_db()
    assert count.state == StockCountState.OPEN
    detail = client.get(count.get_absolute_url()).content.decode()
    assert 'data-confirm="Cancel this count?' in detail
    client.post(reverse("inventory:count_cancel", args=[count.pk]), {"reason": "wrong shelf"})
    count.refresh_from_db()
    assert count.state == StockCountState.CANCELLED


def test_unknown_count_is_404(client_as):
    assert client_as("warehouse").get(reverse("inventory:count_detail", args=[987654])).status_code == 404


def test_admin_shows_counts_and_transfers_read_only(client, django_user_model, count, clerk):
    from inventory.tests.factories import draft_transfer

    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    transfer = draft_transfer(source=count.warehouse, destination=WarehouseFactory(), by=clerk, lines=[(ProductFactory(), 1)])
    for name, obj in [("stockcount", count), ("stocktransfer", transfer)]:
        assert client.get(reverse(f"admin:inventory_{name}_changelist")).status_code == 200
        page = client.get(reverse(f"admin:inventory_{name}_change", args=[obj.pk]))
        assert page.status_code == 200 and obj.number in page.content.decode()
        assert client.post(reverse(f"admin:inventory_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403


def test_count_pages_speak_chinese(client_as, count):
    client = client_as("warehouse")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    detail = client.get(count.get_absolute_url()).content.decode()
    assert f"盘点单 {count.number}" in detail and "保存进度" in detail and "扫描条码或输入 SKU" in detail
    assert "新建盘点" in client.get(reverse("inventory:count_list")).content.decode()


def test_count_page_shows_its_timeline_and_only_the_buttons_the_user_may_use(client_as, count):
    clerk_page = client_as("warehouse").get(count.get_absolute_url())
    assert clerk_page.context["allowed"] == {"cancel"}  # nothing counted yet: nothing to post
    body = clerk_page.content.decode()
    assert "History" in body and "Opened with 1 line." in body
    assert reverse("inventory:count_cancel", args=[count.pk]) in body
    manager_page = client_as("manager").get(count.get_absolute_url())
    assert manager_page.context["allowed"] == set()
    assert reverse("inventory:count_cancel", args=[count.pk]) not in manager_page.content.decode()

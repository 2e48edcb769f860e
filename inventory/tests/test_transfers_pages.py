"""Transfer pages: permissions per role, creating, adding lines, shipping, receiving short, bad input, queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, draft_transfer, stock_put, stock_reserve
from inventory.transfers.models import StockTransfer, TransferState
from inventory.transfers.services import transfer_ship
from tests.queries import assert_constant_queries
from tests.submissions import with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


@pytest.fixture
def source():
    return WarehouseFactory(code="SZ", name="深圳仓")


@pytest.fixture
def destination():
    return WarehouseFactory(code="SH", name="上海仓")


@pytest.fixture
def product(source):
    product = ProductFactory(sku="FAN-1", name="台式电风扇", barcode="6901234567892")
    stock_put(product=product, warehouse=source, quantity=10)
    return product


@pytest.fixture
def draft(clerk, source, destination, product):
    return draft_transfer(source=source, destination=destination, by=clerk, lines=[(product, 4)])


def on_hand(product, warehouse) -> int:
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return level.on_hand if level else 0


# --- who may see and do what --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance"])
def test_roles_outside_the_warehouse_get_403_on_transfers(client_as, draft, role):
    client = client_as(role)
    for url in [reverse("inventory:transfer_list"), reverse("inventory:transfer_create"), draft.get_absolute_url()]:
        assert client.get(url).status_code == 403, url
    for name in ["transfer_ship", "transfer_cancel", "transfer_receive", "transfer_add_line"]:
        assert client.post(reverse(f"inventory:{name}", args=[draft.pk]), {"code": "FAN-1", "quantity": "1"}).status_code == 403
    draft.refresh_from_db()
    assert draft.state == TransferState.DRAFT and draft.lines.get().quantity == 4


def test_manager_may_look_at_transfers_but_not_move_stock(client_as, draft):
    client = client_as("manager")
    assert client.get(reverse("inventory:transfer_list")).status_code == 200
    body = client.get(draft.get_absolute_url()).content.decode()
    assert "台式电风扇" in body and ">Ship</button>" not in body  # no Ship button (the menu names Shipping)
    assert client.post(reverse("inventory:transfer_ship", args=[draft.pk])).status_code == 403


# --- list --------------------------------------------------------------------------------------


def test_transfer_list_filters_by_warehouse_and_state(client_as, clerk, draft, source, destination, product):
    back = draft_transfer(source=destination, destination=source, by=clerk)
    client = client_as("warehouse")
    body = client.get(reverse("inventory:transfer_list"), {"source": source.pk}).content.decode()
    assert draft.number in body and back.number not in body
    transfer_ship(transfer=draft, by=clerk)
    body = client.get(reverse("inventory:transfer_list"), {"state": "shipped"}).content.decode()
    assert draft.number in body and back.number not in body


@pytest.mark.parametrize("params", [{"source": "x"}, {"state": "lost"}, {"page": "-1"}, {"q": "'; --"}])
def test_transfer_list_survives_bad_filter_values(client_as, draft, params):
    assert client_as("warehouse").get(reverse("inventory:transfer_list"), params).status_code == 200


def test_empty_transfer_list_says_so(client_as):
    assert "No transfer yet." in client_as("warehouse").get(reverse("inventory:transfer_list")).content.decode()


def test_transfer_list_queries_do_not_grow_with_transfers(client_as, clerk, source, destination):
    client = client_as("warehouse")
    made = []

    def make_rows(n):
        while len(made) < n:
            made.append(draft_transfer(source=source, destination=destination, by=clerk))

    assert_constant_queries(make_rows, lambda: client.get(reverse("inventory:transfer_list")), sizes=(1, 8))


@pytest.mark.parametrize("state", ["draft", "shipped", "received"])
def test_transfer_detail_queries_do_not_grow_with_lines(client_as, clerk, source, destination, state):
    client = client_as("warehouse")
    current = {}

    def make_rows(n):
        lines = []
        for _ in range(n):
            item = ProductFactory()
            stock_put(product=item, warehouse=source, quantity=5)
            lines.append((item, 2))
        transfer = draft_transfer(source=source, destination=destination, by=clerk, lines=lines)
        if state != "draft":
            transfer_ship(transfer=transfer, by=clerk)
        if state == "received":
            from inventory.transfers.services import ReceivedLine, transfer_receive

            transfer_receive(
                transfer=transfer,
                by=clerk,
                received={line.pk: ReceivedLine(quantity=1, reason="short") for line in transfer.lines.all()},
            )
        current["transfer"] = transfer

    assert_constant_queries(make_rows, lambda: client.get(current["transfer"].get_absolute_url()), sizes=(1, 10))


# --- creating and editing a draft --------------------------------------------------------------


def test_clerk_creates_a_transfer_then_adds_a_line_by_barcode(client_as, source, destination, product):
    client = client_as("warehouse")
    response = client.post(
        reverse("inventory:transfer_create"), with_token({"source": source.pk, "destination": destination.pk, "note": "补货"})
    )
    transfer = StockTransfer.objects.get()
    assert response.status_code == 302 and response.url == transfer.get_absolute_url()
    response = client.post(reverse("inventory:transfer_add_line", args=[transfer.pk]), {"code": "6901234567892", "quantity": "3"})
    assert response.status_code == 302
    body = client.get(transfer.get_absolute_url()).content.decode()
    assert "台式电风扇" in body and "Free at source" in body
    assert transfer.lines.get().quantity == 3


def test_same_source_and_destination_is_a_form_error(client_as, source):
    response = client_as("warehouse").post(
        reverse("inventory:transfer_create"), with_token({"source": source.pk, "destination": source.pk})
    )
    assert response.status_code == 200
    assert "must be different warehouses" in response.content.decode()
    assert not StockTransfer.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "NOPE", "quantity": "1"}, "No product has the barcode or SKU"),
        ({"code": "FAN-1", "quantity": "abc"}, "Enter a whole number."),
        ({"code": "FAN-1", "quantity": "0"}, "greater than or equal to 1"),
        ({"code": "FAN-1", "quantity": "-4"}, "greater than or equal to 1"),
        ({"code": "FAN-1", "quantity": "1000000000000"}, "less than or equal to 1000000"),
        ({"code": "", "quantity": "1"}, "This field is required."),
    ],
)
def test_adding_a_line_with_bad_input_shows_why(client_as, draft, data, message):
    response = client_as("warehouse").post(reverse("inventory:transfer_add_line", args=[draft.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert draft.lines.get().quantity == 4


def test_removing_a_line_asks_first_and_then_removes_it(client_as, draft):
    client = client_as("warehouse")
    line = draft.lines.get()
    assert 'data-confirm="Remove this line?"' in client.get(draft.get_absolute_url()).content.decode()
    client.post(reverse("inventory:transfer_remove_line", args=[draft.pk, line.pk]))
    assert not draft.lines.exists()
    response = client.post(reverse("inventory:transfer_remove_line", args=[draft.pk, line.pk]), follow=True)
    assert "not on transfer" in response.content.decode()


# --- shipping and receiving --------------------------------------------------------------------


def test_shipping_from_the_page_posts_the_transfer_out(client_as, draft, source, product):
    client = client_as("warehouse")
    assert 'data-confirm="Ship this transfer?' in client.get(draft.get_absolute_url()).content.decode()
    response = client.post(reverse("inventory:transfer_ship", args=[draft.pk]), with_token(), follow=True)
    assert "is shipped and in transit" in response.content.decode()
    assert on_hand(product, source) == 6


def test_shipping_more_than_is_free_shows_why_and_ships_nothing(client_as, draft, source, product):
    stock_reserve(product=product, warehouse=source, quantity=7)
    response = client_as("warehouse").post(reverse("inventory:transfer_ship", args=[draft.pk]), with_token(), follow=True)
    assert "FAN-1: 4 to ship, 3 free" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == TransferState.DRAFT and on_hand(product, source) == 10


def test_receiving_short_from_the_page_records_the_loss(client_as, clerk, draft, destination, product):
    transfer_ship(transfer=draft, by=clerk)
    client = client_as("warehouse")
    line = draft.lines.get()
    page = client.get(draft.get_absolute_url()).content.decode()
    assert f'name="received-{line.pk}"' in page and "data-confirm" in page

    response = client.post(
        reverse("inventory:transfer_receive", args=[draft.pk]),
        with_token({f"received-{line.pk}": "3", f"reason-{line.pk}": "一箱破损"}),
        follow=True,
    )

    body = response.content.decode()
    assert "is received" in body and "一箱破损" in body and "Lost in transit" in body
    assert on_hand(product, destination) == 3
    line.refresh_from_db()
    assert line.lost_quantity == 1


@pytest.mark.parametrize(
    ("received", "reason", "message"),
    [
        ("3", "", "Say why 1 did not arrive."),
        ("5", "x", "Only 4 were shipped."),
        ("drei", "", "Enter a whole number."),
        ("-1", "x", "greater than or equal to 0"),
        ("", "", "This field is required."),
    ],
)
def test_receiving_with_bad_input_shows_why_and_receives_nothing(
    client_as, clerk, draft, destination, product, received, reason, message
):
    transfer_ship(transfer=draft, by=clerk)
    line = draft.lines.get()
    response = client_as("warehouse").post(
        reverse("inventory:transfer_receive", args=[draft.pk]),
        with_token({f"received-{line.pk}": received, f"reason-{line.pk}": reason}),
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == TransferState.SHIPPED
    assert not StockMovement.objects.filter(document=draft.number, kind="transfer_in").exists()


def test_receiving_a_draft_is_refused_with_a_message(client_as, draft):
    response = client_as("warehouse").post(reverse("inventory:transfer_receive", args=[draft.pk]), with_token({}), follow=True)
    assert "is not in transit" in response.content.decode()


def test_cancelling_a_draft_from_the_page(client_as, draft):
    client = client_as("warehouse")
    assert 'data-confirm="Cancel this transfer?"' in client.get(draft.get_absolute_url()).content.decode()
    response = client.post(reverse("inventory:transfer_cancel", args=[draft.pk]), follow=True)
    assert "is cancelled" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == TransferState.CANCELLED
    response = client.post(reverse("inventory:transfer_cancel", args=[draft.pk]), follow=True)
    assert "cannot do" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/inventory/transfers/99999999999999999999999/",
        "/inventory/counts/99999999999999999999999/",
        "/inventory/counts/99999999999999999999999/sheet.pdf",
    ],
)
def test_absurd_document_ids_are_404_not_500(client_as, url):
    assert client_as("warehouse").get(url).status_code == 404


def test_removing_an_absurd_line_id_is_a_message_not_a_500(client_as, draft):
    response = client_as("warehouse").post(
        reverse("inventory:transfer_remove_line", args=[draft.pk, 99999999999999999999999]), follow=True
    )
    assert response.status_code == 200 and "not on transfer" in response.content.decode()


def test_transfer_page_shows_its_timeline_and_only_the_buttons_the_user_may_use(client_as, draft):
    clerk_page = client_as("warehouse").get(draft.get_absolute_url())
    assert clerk_page.context["allowed"] == {"ship", "cancel"}
    body = clerk_page.content.decode()
    assert "History" in body and f"From {draft.source.code} to {draft.destination.code}." in body
    assert reverse("inventory:transfer_ship", args=[draft.pk]) in body
    manager_page = client_as("manager").get(draft.get_absolute_url())
    assert manager_page.context["allowed"] == set()
    assert reverse("inventory:transfer_ship", args=[draft.pk]) not in manager_page.content.decode()

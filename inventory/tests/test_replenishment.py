"""Replenishment: the proposal says what to reorder and how much; a request is drafted, ordered and
received in one or more deliveries, each posting receipts and feeding backorders."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor  # noqa: E402
from config.errors import DomainError
from inventory.models import MovementKind, ReplenishmentRequest, ReplenishmentState, StockLevel, StockMovement
from inventory.replenishment.services import (
    backorder_needs,
    proposal_quantity,
    replenishment_cancel,
    replenishment_create,
    replenishment_create_from_proposal,
    replenishment_place,
    replenishment_proposal,
    replenishment_receive,
    with_proposed_quantities,
)
from inventory.tests.factories import ProductFactory, WarehouseFactory, approved_order, stocked_product
from orders.fulfilment.services import order_allocate
from orders.models import OrderStatus, SalesOrder
from tests.queries import assert_constant_queries
from tests.submissions import with_token

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db


@pytest.fixture
def sh():
    return WarehouseFactory(code="SH", priority=1)


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


def set_levels(product, warehouse, **values):
    StockLevel.objects.update_or_create(product=product, warehouse=warehouse, defaults=values)


@pytest.mark.parametrize(
    ("position", "reorder_point", "reorder_quantity", "safety_stock", "expected"),
    [
        (8, 10, 50, 5, 50),  # one lot lifts it above the reorder point
        (-10, 10, 5, 0, 25),  # whole lots, as many as it takes to get above the reorder point
        (10, 10, 0, 5, 5),  # no lot size: up to reorder point + safety stock
        (2, 0, 0, 5, 3),  # only a safety stock: back up to it
    ],
)
def test_proposal_quantity_rule(position, reorder_point, reorder_quantity, safety_stock, expected):
    assert (
        proposal_quantity(
            position=position, reorder_point=reorder_point, reorder_quantity=reorder_quantity, safety_stock=safety_stock
        )
        == expected
    )


def test_proposal_lists_rows_at_or_below_the_reorder_point_counting_what_is_on_order(sh, clerk):
    due = stocked_product(stock={sh: 10})
    set_levels(due, sh, reorder_point=10, reorder_quantity=40)
    fine = stocked_product(stock={sh: 11})
    set_levels(fine, sh, reorder_point=10, reorder_quantity=40)
    below_safety = stocked_product(stock={sh: 1})
    set_levels(below_safety, sh, safety_stock=6)
    ordered = stocked_product(stock={sh: 2})
    set_levels(ordered, sh, reorder_point=10, reorder_quantity=20)
    replenishment_place(request=replenishment_create(warehouse=sh, quantities={ordered: 20}, by=clerk), by=clerk)

    rows = {row.product: row for row in with_proposed_quantities(replenishment_proposal())}

    assert set(rows) == {due, below_safety}
    assert rows[due].proposed == 40 and rows[below_safety].proposed == 5


def test_on_order_quantities_keep_a_product_off_the_proposal(sh, clerk):
    product = stocked_product(stock={sh: 2})
    set_levels(product, sh, reorder_point=10, reorder_quantity=20)
    assert [row.product for row in with_proposed_quantities(replenishment_proposal())] == [product]
    replenishment_create(warehouse=sh, quantities={product: 20}, by=clerk)  # a draft counts as on order
    assert with_proposed_quantities(replenishment_proposal()) == []


def test_request_from_the_proposal_gets_a_yearly_number_and_the_proposed_lines(sh, clerk):
    product = stocked_product(stock={sh: 3})
    set_levels(product, sh, reorder_point=5, reorder_quantity=24)
    request = replenishment_create_from_proposal(warehouse=sh, by=clerk)
    assert request.number == f"RP-{timezone.localdate().year}-000001"
    assert request.state == ReplenishmentState.DRAFT
    assert list(request.lines.values_list("product", "quantity_ordered")) == [(product.pk, 24)]
    with pytest.raises(DomainError, match="Nothing needs reordering"):
        replenishment_create_from_proposal(warehouse=sh, by=clerk)


def test_partial_then_full_delivery_posts_receipts_and_completes_the_request(sh, clerk, django_capture_on_commit_callbacks):
    bolts, nuts = ProductFactory(), ProductFactory()
    request = replenishment_place(request=replenishment_create(warehouse=sh, quantities={bolts: 10, nuts: 4}, by=clerk), by=clerk)
    waiting = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 6)]))
    assert waiting.status == OrderStatus.BACKORDERED
    lines = {line.product: line for line in request.lines.all()}

    with django_capture_on_commit_callbacks(execute=True):
        request = replenishment_receive(request=request, quantities={lines[bolts].pk: 6}, by=clerk, reference="DN-1")
    assert request.state == ReplenishmentState.PARTIALLY_RECEIVED
    assert SalesOrder.objects.get(pk=waiting.pk).status == OrderStatus.ALLOCATED
    receipt = StockMovement.objects.get(product=bolts)
    assert (receipt.kind, receipt.quantity, receipt.document) == (MovementKind.RECEIPT, 6, request.number)

    request = replenishment_receive(request=request, quantities={lines[bolts].pk: 4, lines[nuts].pk: 4}, by=clerk)
    assert request.state == ReplenishmentState.RECEIVED and request.received_at is not None
    assert StockLevel.objects.get(product=bolts, warehouse=sh).on_hand == 10
    assert StockLevel.objects.get(product=nuts, warehouse=sh).on_hand == 4


def test_receiving_more_than_outstanding_or_before_ordering_is_refused(sh, clerk):
    bolts = ProductFactory()
    draft = replenishment_create(warehouse=sh, quantities={bolts: 5}, by=clerk)
    line = draft.lines.get()
    with pytest.raises(DomainError, match="cannot receive goods while it is Draft"):
        replenishment_receive(request=draft, quantities={line.pk: 1}, by=clerk)
    ordered = replenishment_place(request=draft, by=clerk)
    with pytest.raises(DomainError, match="between 1 and 5 are still expected"):
        replenishment_receive(request=ordered, quantities={line.pk: 6}, by=clerk)
    with pytest.raises(DomainError, match="at least one line"):
        replenishment_receive(request=ordered, quantities={line.pk: 0}, by=clerk)
    assert not StockMovement.objects.exists()


def test_a_request_may_be_cancelled_until_goods_arrive(sh, clerk):
    bolts = ProductFactory()
    request = replenishment_place(request=replenishment_create(warehouse=sh, quantities={bolts: 5}, by=clerk), by=clerk)
    replenishment_receive(request=request, quantities={request.lines.get().pk: 1}, by=clerk)
    with pytest.raises(DomainError, match="cannot do “cancel” while it is Partially received"):
        replenishment_cancel(request=request, by=clerk)
    other = replenishment_create(warehouse=sh, quantities={bolts: 5}, by=clerk)
    assert replenishment_cancel(request=other, by=clerk).state == ReplenishmentState.CANCELLED


def test_only_a_role_with_the_permission_may_order(sh, clerk, make_user):
    request = replenishment_create(warehouse=sh, quantities={ProductFactory(): 5}, by=clerk)
    with pytest.raises(DomainError, match="not allowed"):
        replenishment_place(request=request, by=make_user("sales"))
    assert ReplenishmentRequest.objects.get(pk=request.pk).state == ReplenishmentState.DRAFT


# --- pages ------------------------------------------------------------------------------------


def test_replenishment_page_shows_the_proposal_and_creates_a_request_from_it(client_as, sh):
    product = stocked_product(stock={sh: 1}, safety_stock=4)
    client = client_as("warehouse")
    page = client.get(reverse("inventory:replenishment_list"))
    assert page.status_code == 200 and product.sku in page.content.decode()

    response = client.post(reverse("inventory:replenishment_from_proposal"), with_token({"warehouse": sh.pk}))
    request = ReplenishmentRequest.objects.get()
    assert response.url == request.get_absolute_url()
    assert request.lines.get().quantity_ordered == 3
    assert (
        client.post(reverse("inventory:replenishment_from_proposal"), with_token({"warehouse": "x"}), follow=True).status_code
        == 200
    )


def test_warehouse_drafts_orders_and_receives_a_request_through_the_pages(client_as, sh):
    bolts = ProductFactory()
    client = client_as("warehouse")
    response = client.post(
        reverse("inventory:replenishment_create"),
        with_token({"warehouse": sh.pk, "supplier": "宁波紧固件厂", "lines": f"{bolts.sku} 12"}),
    )
    request = ReplenishmentRequest.objects.get()
    assert response.url == request.get_absolute_url() and request.supplier == "宁波紧固件厂"
    detail = reverse("inventory:replenishment_detail", args=[request.pk])
    assert client.get(detail).status_code == 200

    client.post(reverse("inventory:replenishment_place", args=[request.pk]), with_token())
    line = request.lines.get()
    too_many = client.post(reverse("inventory:replenishment_receive", args=[request.pk]), with_token({f"received_{line.pk}": 13}))
    assert too_many.status_code == 400 and "less than or equal to 12" in too_many.content.decode()
    nothing = client.post(reverse("inventory:replenishment_receive", args=[request.pk]), with_token({f"received_{line.pk}": ""}))
    assert nothing.status_code == 400 and "at least one line" in nothing.content.decode()

    client.post(
        reverse("inventory:replenishment_receive", args=[request.pk]),
        with_token({f"received_{line.pk}": 12, "reference": "DN-9"}),
    )
    assert ReplenishmentRequest.objects.get().state == ReplenishmentState.RECEIVED
    assert StockLevel.objects.get(product=bolts, warehouse=sh).on_hand == 12


def test_placing_twice_or_cancelling_a_received_request_gives_a_message(client_as, sh):
    client = client_as("warehouse")
    request = replenishment_create(warehouse=sh, quantities={ProductFactory(): 1}, by=client.user)
    client.post(reverse("inventory:replenishment_place", args=[request.pk]), with_token())
    response = client.post(reverse("inventory:replenishment_place", args=[request.pk]), with_token(), follow=True)
    assert "cannot do “order” while it is Ordered" in response.content.decode()
    assert client.post(reverse("inventory:replenishment_cancel", args=[999999])).status_code == 404


def test_new_request_with_bad_lines_is_refused(client_as, sh):
    response = client_as("warehouse").post(
        reverse("inventory:replenishment_create"), with_token({"warehouse": sh.pk, "lines": "NOPE 3"})
    )
    assert response.status_code == 400 and "no product has the barcode or SKU" in response.content.decode()
    assert not ReplenishmentRequest.objects.exists()


def test_replenishment_page_query_count_does_not_grow(client_as, sh):
    client = client_as("warehouse")

    def make(n):
        for _ in range(n):
            product = stocked_product(stock={sh: 1}, safety_stock=5)
            replenishment_create(warehouse=sh, quantities={product: 1}, by=client.user)

    assert_constant_queries(make, lambda: client.get(reverse("inventory:replenishment_list")))


def test_what_waiting_orders_are_short_of_is_ordered_to_the_main_warehouse(sh, clerk):
    bj = WarehouseFactory(code="BJ", priority=2)
    kettle = stocked_product(stock={sh: 1})
    order_allocate(by=SYSTEM, order=approved_order(lines=[(kettle, 4)]))
    order_allocate(by=SYSTEM, order=approved_order(lines=[(kettle, 2)]))

    needs = backorder_needs()
    assert [(n["product"], n["short"], n["on_order"], n["proposed"]) for n in needs] == [(kettle, 5, 0, 5)]
    with pytest.raises(DomainError, match="Nothing needs reordering in BJ"):
        replenishment_create_from_proposal(warehouse=bj, by=clerk)
    request = replenishment_create_from_proposal(warehouse=sh, by=clerk)
    assert list(request.lines.values_list("product", "quantity_ordered")) == [(kettle.pk, 5)]
    assert backorder_needs() == []


def test_replenishment_page_lists_what_waiting_orders_are_short_of(client_as, sh):
    kettle = stocked_product(stock={})
    order_allocate(by=SYSTEM, order=approved_order(lines=[(kettle, 4)]))
    response = client_as("warehouse").get(reverse("inventory:replenishment_list"))
    assert [n["product"] for n in response.context["backorder_needs"]] == [kettle]
    assert "Short for waiting orders" in response.content.decode()


# --- demand from the orders app, through the provider settings name ----------------------------

SHORTFALL = {}


def shortfall_for_tests() -> dict[int, int]:
    """Stands in for the orders app's provider (settings.STOCK_DEMAND_PROVIDER)."""
    return dict(SHORTFALL)


def test_backorder_needs_come_from_the_demand_provider_less_what_is_on_order(sh, clerk, settings):
    settings.STOCK_DEMAND_PROVIDER = "inventory.tests.test_replenishment.shortfall_for_tests"
    kettle, cups, gone = ProductFactory(sku="KETTLE"), ProductFactory(sku="CUPS"), ProductFactory(sku="GONE")
    SHORTFALL.clear()
    SHORTFALL.update({kettle.pk: 7, cups.pk: 2, gone.pk: 0})
    replenishment_place(request=replenishment_create(warehouse=sh, quantities={cups: 2}, by=clerk), by=clerk)

    needs = backorder_needs()

    assert [(n["product"], n["short"], n["on_order"], n["proposed"]) for n in needs] == [(kettle, 7, 0, 7)]
    request = replenishment_create_from_proposal(warehouse=sh, by=clerk)
    assert list(request.lines.values_list("product", "quantity_ordered")) == [(kettle.pk, 7)]


# --- timeline, actors and who may see what ----------------------------------------------------


def test_each_step_of_a_request_is_on_its_timeline_worded_when_shown(sh, clerk):
    bolts = ProductFactory()
    request = replenishment_create(warehouse=sh, quantities={bolts: 5}, by=clerk, supplier="宁波紧固件厂")
    replenishment_place(request=request, by=clerk)
    replenishment_receive(request=request, quantities={request.lines.get().pk: 2}, by=clerk, reference="DN-1")
    replenishment_receive(request=request, quantities={request.lines.get().pk: 3}, by=clerk)

    events = list(request.events.order_by("at", "pk"))
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("created", "", "draft"),
        ("place", "draft", "ordered"),
        ("receive", "ordered", "partially_received"),
        ("receive", "partially_received", "received"),
    ]
    assert all(e.by == clerk and e.note == "" for e in events)
    assert events[0].sentence == "Drafted with 1 line."
    assert events[1].sentence == "Ordered from 宁波紧固件厂."
    assert events[2].sentence == f"Delivery {request.number}: 2 units received. Delivery note DN-1."
    assert (events[2].from_label, events[2].to_label) == ("Ordered", "Partially received")
    request.refresh_from_db()
    assert request.ordered_at and request.received_at  # stamped by the transitions themselves


def test_a_request_from_the_proposal_says_so_on_its_timeline_not_in_its_note(sh, clerk):
    stocked_product(stock={sh: 1}, safety_stock=4)
    request = replenishment_create_from_proposal(warehouse=sh, by=clerk)
    assert request.note == ""  # the note is only ever what a person typed
    assert request.events.get().sentence == "Drafted from the replenishment proposal with 1 line."


def test_the_system_may_draft_a_request_and_nobody_may_act_anonymously(sh):
    bolts = ProductFactory()
    request = replenishment_create(warehouse=sh, quantities={bolts: 5}, by=Actor.system("system"))
    event = request.events.get()
    assert (request.created_by, event.by, event.actor_label) == (None, None, "system")
    with pytest.raises(ValueError):
        replenishment_place(request=request, by=None)


def test_a_manager_reads_replenishment_but_does_not_order_or_receive(client_as, sh, clerk):
    bolts = ProductFactory(sku="BOLT-8")
    draft = replenishment_create(warehouse=sh, quantities={bolts: 5}, by=clerk)
    stocked_product(stock={sh: 1}, safety_stock=4, sku="LOW-1")
    manager = client_as("manager")

    listing = manager.get(reverse("inventory:replenishment_list"))
    detail = manager.get(reverse("inventory:replenishment_detail", args=[draft.pk]))

    assert listing.status_code == 200 and "LOW-1" in listing.content.decode() and draft.number in listing.content.decode()
    assert detail.status_code == 200 and "BOLT-8" in detail.content.decode()
    assert reverse("inventory:replenishment_list") in manager.get(reverse("home")).content.decode()  # in the navigation
    assert detail.context["allowed"] == set()
    assert reverse("inventory:replenishment_place", args=[draft.pk]) not in detail.content.decode()
    assert reverse("inventory:replenishment_from_proposal") not in listing.content.decode()
    for url in (
        reverse("inventory:replenishment_place", args=[draft.pk]),
        reverse("inventory:replenishment_cancel", args=[draft.pk]),
        reverse("inventory:replenishment_from_proposal"),
    ):
        assert manager.post(url, {"warehouse": sh.pk}).status_code == 403
    assert ReplenishmentRequest.objects.get(pk=draft.pk).state == ReplenishmentState.DRAFT


def test_buttons_follow_what_the_user_may_do_now(client_as, sh, clerk):
    request = replenishment_create(warehouse=sh, quantities={ProductFactory(): 5}, by=clerk)
    client = client_as("warehouse")
    page = client.get(reverse("inventory:replenishment_detail", args=[request.pk]))
    assert page.context["allowed"] == {"place", "cancel"}
    assert reverse("inventory:replenishment_place", args=[request.pk]) in page.content.decode()
    replenishment_place(request=request, by=clerk)
    page = client.get(reverse("inventory:replenishment_detail", args=[request.pk]))
    assert page.context["allowed"] == {"cancel", "receive_part", "receive_rest"}
    assert reverse("inventory:replenishment_place", args=[request.pk]) not in page.content.decode()
    assert reverse("inventory:replenishment_receive", args=[request.pk]) in page.content.decode()
    assert "Ordered" in page.content.decode()  # the timeline

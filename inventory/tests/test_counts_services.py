"""Stock counts: opening snapshots, counting, the moved-since-opening rule, posting all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from config.actors import Actor
from config.errors import DomainError
from config.outbox import OutboxEvent
from inventory.counts.models import StockCount, StockCountLine, StockCountState
from inventory.counts.services import (
    stock_count_cancel,
    stock_count_moved_since_opening,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    stock_count_scan,
    stock_count_summary,
)
from inventory.models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement
from inventory.stock.services import stock_verify_ledger
from inventory.tests.factories import (
    ProductFactory,
    WarehouseFactory,
    approved_order,
    open_count,
    stock_put,
    stock_take,
)
from orders.fulfilment.services import order_allocate
from orders.models import OrderStatus, SalesOrder

pytestmark = pytest.mark.django_db

ALLOCATION = Actor.system("allocation")


@pytest.fixture
def clerk(make_user):
    return make_user("warehouse")


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SZ1", name="深圳一号仓")


def on_hand(product, warehouse) -> int:
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return level.on_hand if level else 0


def reserved_by_order(product, warehouse) -> dict[int, int]:
    """Units actively reserved per order for a product in a warehouse."""
    rows = (
        Reservation.objects.filter(product=product, warehouse=warehouse, state=ReservationState.ACTIVE)
        .values_list("order_line__order")
        .annotate(total=Sum("quantity"))
    )
    return dict(rows)


def line_of(count, product) -> StockCountLine:
    return count.lines.get(product=product)


def count_quantities(count, by, quantities):
    """Record counted quantities given as {product: quantity}."""
    return stock_count_record(count=count, quantities={line_of(count, p).pk: q for p, q in quantities.items()}, by=by)


# --- opening -----------------------------------------------------------------------------------


def test_opening_a_count_snapshots_on_hand_and_numbers_it(clerk, warehouse):
    bolts, nuts = ProductFactory(name="螺栓 M8"), ProductFactory(name="螺母 M8")
    stock_put(product=bolts, warehouse=warehouse, quantity=10)
    last = StockMovement.objects.latest("pk")

    count = open_count(warehouse=warehouse, by=clerk)

    year = timezone.localdate().year
    assert count.number == f"SC-{year}-000001"
    assert count.state == StockCountState.OPEN
    assert count.ledger_position == last.pk
    assert count.line_count == 2
    assert line_of(count, bolts).expected_quantity == 10
    assert line_of(count, nuts).expected_quantity == 0
    assert line_of(count, bolts).unit_cost == bolts.cost
    assert open_count(warehouse=WarehouseFactory(), by=clerk).number == f"SC-{year}-000002"


def test_count_scope_by_sku_prefix_search_and_only_products_with_stock(clerk, warehouse):
    a1 = ProductFactory(sku="CAB-001", name="网线 5 米")
    a2 = ProductFactory(sku="CAB-002", name="网线 10 米")
    b1 = ProductFactory(sku="ADP-001", name="电源适配器")
    stock_put(product=a2, warehouse=warehouse, quantity=4)
    stock_put(product=b1, warehouse=warehouse, quantity=1)

    by_prefix = open_count(warehouse=warehouse, by=clerk, sku_prefix="cab-")
    assert set(by_prefix.lines.values_list("product_id", flat=True)) == {a1.pk, a2.pk}
    stock_count_cancel(count=by_prefix, by=clerk, reason="scope test")

    by_search = open_count(warehouse=warehouse, by=clerk, search="适配器")
    assert set(by_search.lines.values_list("product_id", flat=True)) == {b1.pk}
    stock_count_cancel(count=by_search, by=clerk, reason="scope test")

    with_stock = open_count(warehouse=warehouse, by=clerk, only_in_stock=True)
    assert set(with_stock.lines.values_list("product_id", flat=True)) == {a2.pk, b1.pk}
    assert "only products with stock" in with_stock.scope_text


def test_inactive_products_are_counted_only_when_they_still_have_stock(clerk, warehouse):
    gone = ProductFactory(is_active=False)
    leftover = ProductFactory(is_active=False)
    stock_put(product=leftover, warehouse=warehouse, quantity=2)
    count = open_count(warehouse=warehouse, by=clerk)
    products = set(count.lines.values_list("product_id", flat=True))
    assert leftover.pk in products and gone.pk not in products


def test_opening_a_count_with_nothing_to_count_is_refused(clerk, warehouse):
    ProductFactory(sku="X-1")
    with pytest.raises(DomainError, match="nothing to count"):
        open_count(warehouse=warehouse, by=clerk, sku_prefix="NOPE")
    assert not StockCount.objects.exists()


def test_a_product_is_on_one_open_count_per_warehouse_at_a_time(clerk, warehouse):
    product = ProductFactory(sku="DUP-1")
    first = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError, match=first.number):
        open_count(warehouse=warehouse, by=clerk, sku_prefix="DUP")
    open_count(warehouse=WarehouseFactory(), by=clerk)  # another warehouse is fine
    stock_count_cancel(count=first, by=clerk, reason="opened by mistake")
    again = open_count(warehouse=warehouse, by=clerk, sku_prefix="DUP")
    assert again.lines.get().product == product


def test_salesperson_cannot_open_a_count(make_user, warehouse):
    ProductFactory()
    with pytest.raises(DomainError):
        stock_count_open(warehouse=warehouse, by=make_user("sales"))


def test_an_inactive_warehouse_cannot_be_counted(clerk):
    ProductFactory()
    closed = WarehouseFactory(is_active=False)
    with pytest.raises(DomainError, match="not active"):
        open_count(warehouse=closed, by=clerk)


# --- counting ----------------------------------------------------------------------------------


def test_first_counted_quantity_starts_counting_and_remembers_the_system_quantity(clerk, warehouse):
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)

    count_quantities(count, clerk, {product: 9})

    count.refresh_from_db()
    line = line_of(count, product)
    assert count.state == StockCountState.COUNTING
    assert (line.counted_quantity, line.on_hand_at_count, line.counted_by) == (9, 10, clerk)
    assert line.variance == -1


def test_clearing_a_counted_quantity_makes_the_line_uncounted_again(clerk, warehouse):
    product = ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {product: 3})
    count_quantities(count, clerk, {product: None})
    line = line_of(count, product)
    assert line.counted_quantity is None and line.on_hand_at_count is None and line.variance is None


@pytest.mark.parametrize("bad", [-1, 10_000_001, "7", 2.5, True])
def test_counted_quantity_must_be_a_whole_number_in_range(clerk, warehouse, bad):
    product = ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError):
        count_quantities(count, clerk, {product: bad})
    assert line_of(count, product).counted_quantity is None
    count.refresh_from_db()
    assert count.state == StockCountState.OPEN


def test_lines_of_another_count_cannot_be_recorded(clerk, warehouse):
    ProductFactory()
    mine = open_count(warehouse=warehouse, by=clerk)
    other = open_count(warehouse=WarehouseFactory(), by=clerk)
    with pytest.raises(DomainError, match="do not belong"):
        stock_count_record(count=mine, quantities={other.lines.get().pk: 1}, by=clerk)


def test_database_refuses_a_negative_counted_quantity(clerk, warehouse):
    ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        count.lines.update(counted_quantity=-5, on_hand_at_count=0)


def test_each_scan_adds_one_to_the_scanned_product(clerk, warehouse):
    product = ProductFactory(barcode="6901234567892", sku="SCAN-1")
    count = open_count(warehouse=warehouse, by=clerk)
    for _ in range(3):
        result = stock_count_scan(count=count, code="6901234567892", by=clerk)
    assert result.line.counted_quantity == 3
    stock_count_scan(count=count, code=" scan-1 ", by=clerk)  # a typed SKU, any case
    assert line_of(count, product).counted_quantity == 4


def test_scanning_an_unknown_barcode_says_so_and_changes_nothing(clerk, warehouse):
    product = ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError, match="No product has the barcode"):
        stock_count_scan(count=count, code="0000000000000", by=clerk)
    with pytest.raises(DomainError, match="Scan a barcode"):
        stock_count_scan(count=count, code="   ", by=clerk)
    assert line_of(count, product).counted_quantity is None


def test_scanning_a_product_outside_the_count_is_refused(clerk, warehouse):
    ProductFactory(sku="IN-1")
    ProductFactory(sku="OUT-1")
    count = open_count(warehouse=warehouse, by=clerk, sku_prefix="IN-")
    with pytest.raises(DomainError, match="is not on count"):
        stock_count_scan(count=count, code="OUT-1", by=clerk)


# --- posting and the moved-since-opening rule ---------------------------------------------------


def test_posting_adjusts_stock_by_counted_minus_system(clerk, warehouse):
    short, over, exact = ProductFactory(), ProductFactory(), ProductFactory()
    for product in (short, over, exact):
        stock_put(product=product, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {short: 8, over: 12, exact: 10})

    posted = stock_count_post(count=count, by=clerk)

    assert posted.state == StockCountState.POSTED and posted.posted_by == clerk
    assert (on_hand(short, warehouse), on_hand(over, warehouse), on_hand(exact, warehouse)) == (8, 12, 10)
    movements = StockMovement.objects.filter(document=count.number).order_by("quantity")
    assert [(m.kind, m.quantity, m.product_id) for m in movements] == [
        (MovementKind.ADJUSTMENT, -2, short.pk),
        (MovementKind.ADJUSTMENT, 2, over.pk),
    ]
    # Stored as the English msgid and its figures, worded when shown in the reader's language.
    assert movements[0].reason == "Stock count %(number)s: counted %(counted)s, system %(system)s"
    assert movements[0].params == {"number": count.number, "counted": 8, "system": 10}
    assert movements[0].reason_text == f"Stock count {count.number}: counted 8, system 10"
    assert line_of(count, short).movement == movements[0]
    assert line_of(count, exact).adjustment_quantity == 0 and line_of(count, exact).movement is None


@pytest.mark.parametrize(("counted", "adjustment", "final"), [(7, 0, 7), (6, -1, 6), (8, 1, 8)])
def test_stock_shipped_after_opening_but_before_counting_is_inside_the_count(clerk, warehouse, counted, adjustment, final):
    """Expected 10 at opening, 3 shipped since, then counted: the count already misses those 3."""
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)
    stock_take(product=product, warehouse=warehouse, quantity=3)

    count_quantities(count, clerk, {product: counted})
    stock_count_post(count=count, by=clerk)

    assert line_of(count, product).adjustment_quantity == adjustment
    assert on_hand(product, warehouse) == final
    assert StockMovement.objects.filter(document=count.number).count() == (1 if adjustment else 0)


def test_stock_moved_after_counting_is_kept_on_top_of_the_count(clerk, warehouse):
    """Counted 7 while the system said 10 (3 missing); 2 ship before posting: −3 is posted, 5 remain."""
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {product: 7})
    stock_take(product=product, warehouse=warehouse, quantity=2)

    stock_count_post(count=count, by=clerk)

    assert line_of(count, product).adjustment_quantity == -3
    assert on_hand(product, warehouse) == 5


def test_lines_whose_stock_moved_since_opening_are_reported(clerk, warehouse):
    moved, quiet, other_wh = ProductFactory(), ProductFactory(), ProductFactory()
    for product in (moved, quiet, other_wh):
        stock_put(product=product, warehouse=warehouse, quantity=5)
    count = open_count(warehouse=warehouse, by=clerk)
    stock_take(product=moved, warehouse=warehouse, quantity=2)
    stock_put(product=moved, warehouse=warehouse, quantity=1)
    stock_put(product=other_wh, warehouse=WarehouseFactory(), quantity=9)  # another warehouse: not this count's business

    assert stock_count_moved_since_opening(count=count) == {moved.pk: -1}

    count_quantities(count, clerk, {quiet: 4})
    stock_count_post(count=count, by=clerk, allow_uncounted=True)
    # the count's own adjustment is not "movement since opening"
    assert stock_count_moved_since_opening(count=count) == {moved.pk: -1}


def test_a_count_that_finds_less_than_is_reserved_posts_and_releases_the_newest_reservations(clerk, warehouse):
    """The demo's bug: "80 on hand, 80 reserved; cannot take 1 out". The count is the physical truth:
    it posts, the most recently reserved orders lose what is missing, and the ledger stays exact."""
    battery = ProductFactory(sku="BAT-AA-8")
    stock_put(product=battery, warehouse=warehouse, quantity=10)
    oldest = order_allocate(order=approved_order(lines=[(battery, 4)]), by=ALLOCATION)
    middle = order_allocate(order=approved_order(lines=[(battery, 3)]), by=ALLOCATION)
    newest = order_allocate(order=approved_order(lines=[(battery, 3)]), by=ALLOCATION)
    assert StockLevel.objects.get(product=battery, warehouse=warehouse).reserved == 10
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {battery: 5})  # 5 of the 10 units are gone

    posted = stock_count_post(count=count, by=clerk)

    assert posted.state == StockCountState.POSTED
    level = StockLevel.objects.get(product=battery, warehouse=warehouse)
    held = reserved_by_order(battery, warehouse)
    # 5 reserved units had to go: all 3 of the newest order, then 2 of the middle one; the oldest keeps its 4.
    assert held == {oldest.pk: 4, middle.pk: 1}
    assert (
        level.on_hand
        == 5
        == sum(StockMovement.objects.filter(product=battery, warehouse=warehouse).values_list("quantity", flat=True))
    )
    assert level.reserved == 5 == sum(held.values())
    released = Reservation.objects.filter(product=battery, state=ReservationState.RELEASED)
    assert sorted(released.values_list("order_line__order", "quantity")) == sorted([(newest.pk, 3), (middle.pk, 2)])
    event = OutboxEvent.objects.get(topic="inventory.reservations_released")
    assert event.payload == {
        "order_line_ids": sorted([*newest.lines.values_list("pk", flat=True), *middle.lines.values_list("pk", flat=True)]),
        "document": count.number,
        "reason": "stock_count",
    }
    assert StockMovement.objects.get(document=count.number).quantity == -5
    assert count.events.filter(kind="reservations_released", params__units=5, params__lines=2).exists()
    assert stock_verify_ledger().ok


def test_released_orders_wait_for_stock_again_once_the_outbox_is_handled(clerk, warehouse, django_capture_on_commit_callbacks):
    lamp = ProductFactory(sku="LAMP-1")
    stock_put(product=lamp, warehouse=warehouse, quantity=6)
    first = order_allocate(order=approved_order(lines=[(lamp, 3)]), by=ALLOCATION)
    second = order_allocate(order=approved_order(lines=[(lamp, 3)]), by=ALLOCATION)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {lamp: 4})

    with django_capture_on_commit_callbacks(execute=True):
        stock_count_post(count=count, by=clerk)

    assert SalesOrder.objects.get(pk=first.pk).status == OrderStatus.ALLOCATED
    assert SalesOrder.objects.get(pk=second.pk).status == OrderStatus.BACKORDERED
    assert reserved_by_order(lamp, warehouse) == {first.pk: 3, second.pk: 1}
    assert not OutboxEvent.objects.filter(topic="inventory.reservations_released", dispatched_at__isnull=True).exists()


def test_a_count_below_reserved_releases_nothing_it_does_not_have_to(clerk, warehouse):
    cup = ProductFactory(sku="CUP-9")
    stock_put(product=cup, warehouse=warehouse, quantity=10)
    order = order_allocate(order=approved_order(lines=[(cup, 6)]), by=ALLOCATION)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {cup: 7})  # 3 missing, but only free stock is missing

    stock_count_post(count=count, by=clerk)

    assert reserved_by_order(cup, warehouse) == {order.pk: 6}
    assert not Reservation.objects.filter(product=cup, state=ReservationState.RELEASED).exists()
    assert not OutboxEvent.objects.filter(topic="inventory.reservations_released").exists()
    assert not count.events.filter(kind="reservations_released").exists()


def test_posting_with_uncounted_lines_needs_the_clerks_confirmation(clerk, warehouse):
    counted, forgotten = ProductFactory(), ProductFactory()
    stock_put(product=forgotten, warehouse=warehouse, quantity=4)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {counted: 1})

    with pytest.raises(DomainError, match="1 line has no counted quantity"):
        stock_count_post(count=count, by=clerk)
    stock_count_post(count=count, by=clerk, allow_uncounted=True)

    assert on_hand(forgotten, warehouse) == 4  # left as it was
    assert line_of(count, forgotten).adjustment_quantity is None


def test_an_open_count_with_nothing_counted_cannot_be_posted(clerk, warehouse):
    ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(DomainError, match="cannot do"):
        stock_count_post(count=count, by=clerk, allow_uncounted=True)


def test_a_posted_count_cannot_be_posted_again_cancelled_or_changed(clerk, warehouse):
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=3)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {product: 2})
    stock_count_post(count=count, by=clerk)

    with pytest.raises(DomainError, match="cannot do"):
        stock_count_post(count=count, by=clerk)
    with pytest.raises(DomainError, match="cannot do"):
        stock_count_cancel(count=count, by=clerk, reason="too late")
    with pytest.raises(DomainError, match="can no longer change"):
        count_quantities(count, clerk, {product: 3})
    with pytest.raises(DomainError, match="can no longer change"):
        stock_count_scan(count=count, code=product.sku, by=clerk)
    assert on_hand(product, warehouse) == 2
    assert StockMovement.objects.filter(document=count.number).count() == 1


def test_cancelling_a_count_needs_a_reason_and_moves_no_stock(clerk, warehouse):
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=3)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {product: 1})
    with pytest.raises(DomainError, match="Say why"):
        stock_count_cancel(count=count, by=clerk, reason="  ")

    cancelled = stock_count_cancel(count=count, by=clerk, reason="wrong warehouse")

    assert cancelled.state == StockCountState.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancel_reason) == (clerk, "wrong warehouse")
    assert on_hand(product, warehouse) == 3
    with pytest.raises(DomainError, match="cannot do"):
        stock_count_post(count=count, by=clerk, allow_uncounted=True)


def test_a_salesperson_cannot_post_or_cancel_a_count(clerk, make_user, warehouse):
    product = ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {product: 1})
    seller = make_user("sales")
    with pytest.raises(DomainError, match="not allowed"):
        stock_count_post(count=count, by=seller)
    with pytest.raises(DomainError, match="not allowed"):
        stock_count_cancel(count=count, by=seller, reason="no")


def test_state_field_cannot_be_set_by_hand(clerk, warehouse):
    ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(AttributeError):
        count.state = StockCountState.POSTED


def test_variance_summary_in_units_and_at_cost(clerk, warehouse):
    cheap = ProductFactory(cost=Decimal("2.50"))
    dear = ProductFactory(cost=Decimal("99.99"))
    stock_put(product=cheap, warehouse=warehouse, quantity=10)
    stock_put(product=dear, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {cheap: 13, dear: 9})

    summary = stock_count_summary(count=count)

    assert (summary.counted, summary.uncounted, summary.with_variance) == (2, 0, 2)
    assert (summary.units_over, summary.units_short) == (3, -1)
    assert (summary.value_over, summary.value_short, summary.value_net) == (Decimal("7.50"), Decimal("-99.99"), Decimal("-92.49"))
    assert line_of(count, dear).variance_value == Decimal("-99.99")


def test_posting_an_increase_queues_backorder_allocation_after_commit(
    clerk, warehouse, monkeypatch, django_capture_on_commit_callbacks
):
    up, down = ProductFactory(), ProductFactory()
    stock_put(product=up, warehouse=warehouse, quantity=1)
    stock_put(product=down, warehouse=warehouse, quantity=5)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {up: 4, down: 3})
    from config.outbox import OutboxEvent

    with django_capture_on_commit_callbacks(execute=True):
        stock_count_post(count=count, by=clerk)

    # What the count found is offered to waiting orders through the outbox, in the posting transaction.
    queued = list(OutboxEvent.objects.filter(topic="inventory.stock_available").values_list("payload", flat=True))
    assert {"product_ids": [up.pk]} in queued
    assert all(down.pk not in call["product_ids"] for call in queued)


# --- timeline and actors ---------------------------------------------------------------------------


def test_every_step_of_a_count_is_on_its_timeline_worded_when_shown(clerk, warehouse):
    short, over = ProductFactory(), ProductFactory()
    stock_put(product=short, warehouse=warehouse, quantity=10)
    stock_put(product=over, warehouse=warehouse, quantity=10)
    count = open_count(warehouse=warehouse, by=clerk)
    count_quantities(count, clerk, {short: 7})
    count_quantities(count, clerk, {over: 11})  # counting has started already: no second event
    stock_count_post(count=count, by=clerk)

    events = list(count.events.order_by("at", "pk"))
    assert [(e.kind, e.from_state, e.to_state, e.by) for e in events] == [
        ("created", "", "open", clerk),
        ("start_counting", "open", "counting", clerk),
        ("post", "counting", "posted", clerk),
    ]
    assert events[0].sentence == "Opened with 2 lines."
    assert events[2].sentence == "Posted: 2 lines adjusted (+1 / −3)."
    assert (events[2].from_label, events[2].to_label) == ("Counting", "Posted")
    assert all(e.note == "" for e in events)


def test_the_reason_for_cancelling_is_the_events_note(clerk, warehouse):
    ProductFactory()
    count = open_count(warehouse=warehouse, by=clerk)
    stock_count_cancel(count=count, by=clerk, reason="wrong warehouse")
    event = count.events.get(kind="cancel")
    assert (event.note, event.from_state, event.to_state) == ("wrong warehouse", "open", "cancelled")
    count.refresh_from_db()
    assert count.cancelled_at is not None  # stamped by the transition itself


def test_the_system_may_count_and_its_movements_name_no_user(warehouse):
    product = ProductFactory()
    stock_put(product=product, warehouse=warehouse, quantity=4)
    system = Actor.system("stock_count")
    count = open_count(warehouse=warehouse, by=system)
    stock_count_record(count=count, quantities={line_of(count, product).pk: 3}, by=system)
    posted = stock_count_post(count=count, by=system)

    assert (posted.opened_by, posted.posted_by) == (None, None)
    assert StockMovement.objects.get(document=count.number).created_by is None
    assert {e.actor_label for e in count.events.all()} == {"stock count"}


def test_no_count_service_acts_without_an_actor(clerk, warehouse):
    ProductFactory()
    with pytest.raises(ValueError):
        open_count(warehouse=warehouse, by=None)
    count = open_count(warehouse=warehouse, by=clerk)
    with pytest.raises(ValueError):
        stock_count_post(count=count, by=None)
    with pytest.raises(ValueError):
        stock_count_cancel(count=count, by=None, reason="x")

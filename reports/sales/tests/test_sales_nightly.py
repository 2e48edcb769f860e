"""The nightly run of the sales facts: after the first build it computes again only the orders whose facts may
have changed since the last run (and a slice of all orders in turn), and leaves the rows a full rebuild writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone

from config.actors import Actor
from inventory.models import Product
from inventory.tests.factories import approved_order, stocked_product
from logistics.models import Shipment
from logistics.returns.services import LineOutcome, return_receive
from logistics.tests.factories import packed_shipment, ship
from logistics.tests.returns_factories import approved_return, shipped_order
from orders.entry.services import order_cancel
from orders.fulfilment.services import order_allocate
from orders.models import OrderEvent, SalesOrder
from reports.models import SnapshotState
from reports.sales import nightly, tasks
from reports.sales.facts import SNAPSHOT, sales_facts_rebuild
from reports.sales.models import FACTS, ROLLUPS, SalesLineFact, SalesOrderFact
from reports.sales.nightly import FULL_RUN_WEEKDAY, sales_facts_nightly
from reports.snapshots import nightly_slice

from .oracle import assert_facts_match_raw_data

pytestmark = pytest.mark.django_db

ALLOCATION = Actor.system("allocation")


def contents() -> dict:
    def rows(model):
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
        return sorted(tuple(str(value) for value in row) for row in model.objects.values_list(*fields))

    return {model: rows(model) for model in FACTS + ROLLUPS}


def rebuilt_contents() -> dict:
    sales_facts_rebuild()
    return contents()


def night(moment: datetime) -> datetime:
    """The first run at 01:15 (the beat's time) after `moment` that is not the weekly full run's day."""
    zone = ZoneInfo(timezone.get_current_timezone_name())
    run = timezone.localtime(moment, zone).replace(hour=1, minute=15, second=0, microsecond=0) + timedelta(days=1)
    while run.weekday() == FULL_RUN_WEEKDAY:
        run += timedelta(days=1)
    return run


def net_of(order) -> Decimal:
    return sum(SalesLineFact.objects.filter(order=order).values_list("net", flat=True), Decimal("0"))


@pytest.fixture
def tea(warehouse):
    return stocked_product(stock={warehouse: 200}, sku="TEA-250", list_price=Decimal("268.00"), cost=Decimal("150.00"))


@pytest.fixture
def orders(tea, warehouse, clerk, seller):
    return [shipped_order(lines=[(tea, n)], warehouse=warehouse, clerk=clerk, salesperson=seller) for n in (1, 2, 3, 4)]


def damage(order) -> None:
    """The order's facts made wrong without any of its business rows changing (as a lost event would)."""
    SalesLineFact.objects.filter(order=order).update(net=Decimal("1.00"))


def test_the_first_nightly_run_builds_in_full(orders):
    outcome = sales_facts_nightly()

    assert outcome == {"rebuilt": True, "refreshed": 0}
    assert SalesOrderFact.objects.count() == len(orders)
    state = SnapshotState.objects.get(name=SNAPSHOT)
    assert state.rebuilt_at == state.refreshed_at is not None
    assert_facts_match_raw_data()
    assert contents() == rebuilt_contents()


def age_everything(days: int) -> None:
    """Every business row so far written `days` earlier (so only what happens next is a change)."""
    earlier = timedelta(days=days)
    SalesOrder.objects.update(updated_at=F("updated_at") - earlier)
    OrderEvent.objects.update(at=F("at") - earlier)
    Shipment.objects.update(created_at=F("created_at") - earlier, shipped_at=F("shipped_at") - earlier)
    Product.objects.update(updated_at=F("updated_at") - earlier)


def test_the_orders_changed_since_the_last_run_are_computed_again_as_a_rebuild_would(
    orders, tea, cups, warehouse, clerk, seller, monkeypatch
):
    monkeypatch.setattr(nightly, "nightly_slice", lambda day, size: [])  # only what changed
    # The damaged order on its own product: no rollup row of the others holds its line.
    untouched = shipped_order(lines=[(cups, 1)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    cancelled, returned = approved_order(lines=[(tea, 5)], by=seller), orders[3]
    age_everything(10)
    sales_facts_nightly()
    damage(untouched)
    # Changes whose events are not handled: a cancellation, a return received, an order approved and shipped.
    order_cancel(order=cancelled, by=seller, reason="Duplicate")
    opened = approved_return(order=returned, quantities={returned.lines.get().pk: 2}, by=clerk)
    return_receive(return_request=opened, outcomes={opened.lines.get().pk: LineOutcome("restock", warehouse.pk)}, by=clerk)
    new = order_allocate(order=approved_order(lines=[(tea, 6)], by=seller), by=ALLOCATION)
    ship(packed_shipment(order=new, warehouse=warehouse, by=clerk), by=clerk)

    outcome = sales_facts_nightly(now=night(timezone.now()))

    assert outcome == {"rebuilt": False, "refreshed": 3}
    assert not SalesLineFact.objects.filter(order=cancelled).exists()
    assert SalesLineFact.objects.get(order=returned).quantity == 2
    assert SalesLineFact.objects.filter(order=new).exists()
    assert net_of(untouched) == Decimal("1.00")  # nothing of it changed, and not in the (empty) slice: left alone
    untouched_line = str(untouched.lines.get().pk)
    nightly_rows = contents()
    repaired = rebuilt_contents()
    assert net_of(untouched) == Decimal("69.00")
    # Apart from the damaged order's line, the rows a full rebuild writes.
    nightly_rows[SalesLineFact] = [row for row in nightly_rows[SalesLineFact] if row[0] != untouched_line]
    repaired[SalesLineFact] = [row for row in repaired[SalesLineFact] if row[0] != untouched_line]
    assert nightly_rows == repaired
    assert_facts_match_raw_data()


def test_an_untouched_order_is_repaired_when_its_slice_comes_and_not_before(orders, monkeypatch):
    monkeypatch.setattr(nightly, "NIGHTLY_SLICE_ORDERS", 2)
    first = timezone.now() + timedelta(days=3)  # the orders' own times lie more than the overlap before it
    sales_facts_nightly(now=first)
    quiet = orders[0]
    expected = net_of(quiet)
    damage(quiet)
    # Start on a night whose slice leaves the order out, to see it left damaged.
    run = night(first)
    while quiet.pk in nightly_slice(timezone.localdate(run), size=2):
        run = night(run)
    left_alone = 0
    for _ in range(10):
        due = quiet.pk in nightly_slice(timezone.localdate(run), size=2)
        outcome = sales_facts_nightly(now=run)
        assert outcome["rebuilt"] is False
        assert outcome["refreshed"] <= 2  # nothing changed: only the slice
        if due:
            break
        assert net_of(quiet) == Decimal("1.00")
        left_alone += 1
        run = night(run)
    assert left_alone >= 1
    assert net_of(quiet) == expected
    assert contents() == rebuilt_contents()


def test_the_weekly_run_and_a_run_on_demand_compute_everything_afresh(orders, monkeypatch):
    monkeypatch.setattr(nightly, "nightly_slice", lambda day, size: [])
    first = timezone.now() + timedelta(days=3)
    sales_facts_nightly(now=first)
    expected = contents()
    damage(orders[1])
    sunday = night(first)
    while sunday.weekday() != FULL_RUN_WEEKDAY:
        sunday += timedelta(days=1)

    assert sales_facts_nightly(now=sunday)["rebuilt"] is True
    assert contents() == expected
    assert SnapshotState.objects.get(name=SNAPSHOT).rebuilt_at == sunday

    damage(orders[2])
    assert sales_facts_nightly(now=night(sunday))["rebuilt"] is False
    assert net_of(orders[2]) == Decimal("1.00")
    tasks.rebuild_sales_facts.apply(kwargs={"full": True}, throw=True)
    assert contents() == expected

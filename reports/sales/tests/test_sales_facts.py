"""The sales facts: after the nightly rebuild and after each event's refresh they equal what the raw
orders, shipments, returns and ledger say (reports.sales.tests.oracle works it out line by line)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from config.actors import Actor
from config.outbox import outbox_dispatch
from config.transitions import transition_apply
from inventory.models import MovementKind, Reservation, StockMovement
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from logistics.models import ShipmentLine
from logistics.returns.services import LineOutcome, return_receive
from logistics.shipments.services import ParcelInput, shipment_pack, shipment_start_picking
from logistics.tests.factories import packed_shipment, scan_all, ship
from logistics.tests.returns_factories import approved_return, shipped_order
from orders.entry.services import LineInput, OrderHeader, order_cancel, order_reopen, order_update_draft
from orders.fulfilment.services import order_allocate, order_close_short
from orders.models import SalesOrder
from orders.tests.factories import draft_order
from reports.models import SnapshotState
from reports.sales.facts import SNAPSHOT, held_warehouses, sales_facts_rebuild, sales_facts_refresh_orders
from reports.sales.models import FACTS, ROLLUPS, MarginByProduct, MarginLineFact, SalesLineFact, SalesOrderFact, SalesTotals
from tests.queries import count_queries

from .oracle import assert_facts_match_raw_data

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SYSTEM = Actor.system("automatic_checks")
ALLOCATION = Actor.system("allocation")


@pytest.fixture
def tea(warehouse):
    return stocked_product(stock={warehouse: 100}, sku="TEA-250", list_price=Decimal("268.00"), cost=Decimal("150.00"))


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


def rebuilt_equals_refreshed() -> None:
    """What the events left equals what a rebuild from scratch makes, and both equal the raw data."""
    assert_facts_match_raw_data()
    refreshed = {model: sorted(_rows(model)) for model in FACTS + ROLLUPS}
    sales_facts_rebuild()
    assert_facts_match_raw_data()
    assert {model: sorted(_rows(model)) for model in refreshed} == refreshed


def _rows(model):
    fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
    return [tuple(str(value) for value in row) for row in model.objects.values_list(*fields)]


def test_an_approved_order_counts_on_its_approval_day_in_the_company_time_zone(tea, cups, warehouse, seller):
    # 23:30 in Shanghai is 15:30 UTC: the sale belongs to the Shanghai day.
    late = datetime(2026, 3, 9, 23, 30, tzinfo=SHANGHAI)
    order = approved_order(lines=[(tea, 2), (cups, 3)], by=seller, approved_at=late)

    outbox_dispatch()

    fact = SalesOrderFact.objects.get()
    assert (fact.day, fact.customer_id, fact.salesperson_id) == (date(2026, 3, 9), order.customer_id, seller.pk)
    assert (fact.lines, fact.net, fact.tax) == (2, order.subtotal, order.tax_total)
    day = SalesTotals.objects.get()
    assert (day.day, day.orders, day.net + day.tax) == (date(2026, 3, 9), 1, order.total)
    tea_row = SalesLineFact.objects.get(product=tea)
    # The outbox allocated it before refreshing the facts.
    assert (tea_row.quantity, tea_row.net, tea_row.warehouse_id) == (2, Decimal("536.00"), warehouse.pk)
    assert SnapshotState.objects.get(name=SNAPSHOT).refreshed_at is not None
    rebuilt_equals_refreshed()


def test_drafts_orders_in_review_and_rejected_orders_are_not_sales(tea, seller):
    draft_order(by=seller, products=[tea])
    in_review = draft_order(by=seller, products=[tea])
    in_review.refresh_from_db()
    transition_apply(obj=in_review, transition="submit", actor=SYSTEM)
    transition_apply(obj=in_review, transition="flag_for_review", actor=SYSTEM)
    approved_order(lines=[(tea, 1)], by=seller)

    outbox_dispatch()
    sales_facts_rebuild()

    assert SalesTotals.objects.get().orders == 1
    assert_facts_match_raw_data()


def test_a_cancelled_order_leaves_the_sales(tea, cups, seller):
    order = order_allocate(order=approved_order(lines=[(tea, 1), (cups, 1)], by=seller), by=ALLOCATION)
    outbox_dispatch()
    assert SalesLineFact.objects.count() == 2

    order_cancel(order=order, by=seller, reason="Customer changed their mind")
    outbox_dispatch()

    assert not SalesLineFact.objects.exists() and not SalesOrderFact.objects.exists() and not SalesTotals.objects.exists()
    rebuilt_equals_refreshed()


def test_another_order_of_the_same_customer_and_day_is_kept_when_one_is_cancelled(tea, cups, seller):
    first = approved_order(lines=[(tea, 1)], by=seller)
    second = approved_order(lines=[(tea, 2), (cups, 1)], by=seller, customer=first.customer)
    outbox_dispatch()
    assert SalesTotals.objects.get().orders == 2

    order_cancel(order=first, by=seller, reason="Duplicate")
    outbox_dispatch()

    day = SalesTotals.objects.get()
    assert (day.orders, day.net) == (1, fresh(second).subtotal)
    assert SalesLineFact.objects.get(product=tea).quantity == 2
    rebuilt_equals_refreshed()


def test_the_warehouse_is_the_one_holding_most_of_the_line(seller):
    shanghai = WarehouseFactory(code="SH", priority=1)
    beijing = WarehouseFactory(code="BJ", priority=2)
    lamp = stocked_product(stock={shanghai: 2, beijing: 10})

    order_allocate(order=approved_order(lines=[(lamp, 7)], by=seller), by=ALLOCATION)  # 2 in SH, 5 in BJ
    outbox_dispatch()

    assert SalesLineFact.objects.get().warehouse_id == beijing.pk
    rebuilt_equals_refreshed()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the full computations' scratch table is PostgreSQL's")
def test_every_lines_warehouse_in_the_scratch_table_is_the_one_holding_most_of_it_the_lower_on_a_tie(seller):
    shanghai = WarehouseFactory(code="SH", priority=1)
    beijing = WarehouseFactory(code="BJ", priority=2)
    lamp = stocked_product(stock={shanghai: 50, beijing: 50})
    held = {  # units per warehouse of each line's reservations, and the state they are in
        "one warehouse": [(beijing, 3, "active")],
        "most in the second": [(shanghai, 2, "active"), (beijing, 5, "consumed")],
        "a tie": [(beijing, 4, "active"), (shanghai, 4, "active")],
        "released units do not count": [(shanghai, 9, "released"), (beijing, 1, "active")],
        "two rows in one warehouse": [(shanghai, 1, "consumed"), (shanghai, 1, "active"), (beijing, 1, "active")],
        "nothing held": [(shanghai, 2, "released")],
    }
    order = approved_order(lines=[(lamp, 9)] * len(held), by=seller)
    lines = dict(zip(held, order.lines.order_by("pk"), strict=True))
    Reservation.objects.bulk_create(
        Reservation(order_line=lines[name], product=lamp, warehouse=place, quantity=units, state=state)
        for name, rows in held.items()
        for place, units, state in rows
    )
    with connection.cursor() as cursor:
        table = held_warehouses(cursor)
        cursor.execute(f"SELECT order_line_id, warehouse_id FROM {table}")
        found = dict(cursor.fetchall())
        cursor.execute(f"DROP TABLE {table}")

    expected = {
        "one warehouse": beijing,
        "most in the second": beijing,
        "a tie": shanghai if shanghai.pk < beijing.pk else beijing,
        "released units do not count": beijing,
        "two rows in one warehouse": shanghai,
    }
    assert {name: found.get(line.pk) for name, line in lines.items()} == {
        **{name: place.pk for name, place in expected.items()},
        "nothing held": None,
    }


def test_closing_short_takes_the_cancelled_units_off_and_prices_the_rest_as_the_line(warehouse, clerk, seller):
    lamp = stocked_product(stock={warehouse: 3}, list_price=Decimal("33.33"), cost=Decimal("20.00"))
    order = order_allocate(order=approved_order(lines=[(lamp, 7)], by=seller), by=ALLOCATION)  # 3 reserved, 4 short
    ship(packed_shipment(order=order, warehouse=warehouse, by=clerk, quantities={order.lines.get().pk: 3}), by=clerk)
    outbox_dispatch()
    assert SalesLineFact.objects.get().net == Decimal("233.31")

    order_close_short(order=fresh(order), reason="Discontinued", by=clerk)
    outbox_dispatch()

    row = SalesLineFact.objects.get()
    assert (row.quantity, row.net, row.tax) == (3, Decimal("99.99"), Decimal("13.00"))  # 3 × 33.33; 13 % of it
    rebuilt_equals_refreshed()


def test_a_shipment_costs_what_the_ledger_recorded_when_it_left_not_todays_cost(tea, warehouse, clerk, seller):
    order = shipped_order(lines=[(tea, 4)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    movement = StockMovement.objects.get(kind=MovementKind.SHIPMENT, document__startswith="SH")
    assert movement.unit_cost == Decimal("150.00")
    assert ShipmentLine.objects.get().unit_cost == Decimal("150.00")  # kept with the line as it left
    tea.cost = Decimal("175.00")
    tea.save()

    outbox_dispatch()
    sales_facts_rebuild()

    margin = MarginLineFact.objects.get()
    assert (margin.quantity, margin.net, margin.cost, margin.estimated_quantity) == (4, Decimal("1072.00"), Decimal("600.00"), 0)
    assert margin.net - margin.cost == Decimal("472.00")
    assert margin.warehouse_id == warehouse.pk and margin.salesperson_id == seller.pk
    assert margin.customer_id == order.customer_id
    assert_facts_match_raw_data()


def test_shipments_from_before_the_ledger_kept_costs_are_costed_at_the_products_cost(tea, warehouse, clerk, seller):
    shipped_order(lines=[(tea, 4)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    with connection.cursor() as cursor:  # as a row written before the column existed (the ledger refuses updates)
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off, this transaction only
        cursor.execute("UPDATE inventory_stockmovement SET unit_cost = NULL")
        cursor.execute("SET LOCAL session_replication_role = origin")
    ShipmentLine.objects.update(unit_cost=None)  # and a line shipped then kept none
    tea.cost = Decimal("160.00")
    tea.save()

    sales_facts_rebuild()

    margin = MarginLineFact.objects.get()
    assert (margin.cost, margin.estimated_quantity) == (Decimal("640.00"), 4)
    assert_facts_match_raw_data()


def test_a_return_is_taken_off_the_sale_and_off_the_margin_on_the_day_it_came_back(tea, cups, warehouse, clerk, seller):
    order = shipped_order(lines=[(tea, 5), (cups, 2)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    outbox_dispatch()
    tea_line = order.lines.get(product=tea)
    opened = approved_return(order=order, quantities={tea_line.pk: 2}, by=clerk)

    return_receive(return_request=opened, outcomes={opened.lines.get().pk: LineOutcome("restock", warehouse.pk)}, by=clerk)
    outbox_dispatch()

    sold = SalesLineFact.objects.get(product=tea)
    assert (sold.quantity, sold.net) == (3, Decimal("804.00"))
    assert SalesOrderFact.objects.get().net == Decimal("804.00") + Decimal("138.00")
    # Shipped and returned the same day here: 5 out, 2 back, at the cost they left at.
    margin = MarginByProduct.objects.get(product=tea)
    assert (margin.quantity, margin.net, margin.cost) == (3, Decimal("804.00"), Decimal("450.00"))
    rebuilt_equals_refreshed()


def test_replaced_units_stay_sold_and_the_replacement_is_not_a_sale(tea, warehouse, clerk, seller):
    order = shipped_order(lines=[(tea, 3)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    line = order.lines.get()
    opened = approved_return(order=order, quantities={line.pk: 1}, by=clerk)
    return_receive(return_request=opened, outcomes={opened.lines.get().pk: LineOutcome("replace")}, by=clerk)
    replacement = opened.replacement_shipments.get()
    shipment_start_picking(shipment=replacement, by=clerk)
    scan_all(replacement, by=clerk)
    ship(shipment_pack(shipment=replacement, parcels=[ParcelInput(index=1, weight_kg=Decimal("1"))], by=clerk), by=clerk)
    outbox_dispatch()

    assert SalesLineFact.objects.get().quantity == 3
    margin = MarginLineFact.objects.get()
    assert (margin.quantity, margin.cost) == (3, Decimal("450.00"))
    rebuilt_equals_refreshed()


def test_an_order_priced_again_while_back_in_draft_counts_at_its_new_price(tea, seller, make_user):
    order = draft_order(by=seller, products=[tea], unit_price=Decimal("268.00"), quantity=2)
    transition_apply(obj=fresh(order), transition="submit", actor=SYSTEM)
    transition_apply(obj=fresh(order), transition="flag_for_review", actor=SYSTEM)
    transition_apply(obj=fresh(order), transition="reject", actor=SYSTEM)
    reopened = order_reopen(order=fresh(order), by=seller)
    header = OrderHeader(customer=reopened.customer, shipping_address=reopened.shipping_address)
    order_update_draft(
        order=reopened,
        version=reopened.version,
        header=header,
        lines=[LineInput(product=tea, quantity=2, unit_price=Decimal("250.00"), discount_percent=Decimal("10"))],
        by=seller,
    )
    transition_apply(obj=fresh(order), transition="submit", actor=SYSTEM)
    transition_apply(obj=fresh(order), transition="pass_checks", actor=SYSTEM)
    outbox_dispatch()

    assert SalesLineFact.objects.get().net == Decimal("450.00")  # 2 × 250 less 10 %
    rebuilt_equals_refreshed()


def test_refreshing_an_order_again_changes_nothing(tea, cups, warehouse, clerk, seller):
    mine = shipped_order(lines=[(tea, 1), (cups, 2)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    approved_order(lines=[(tea, 4)], by=seller, customer=mine.customer)
    outbox_dispatch()
    before = {model: sorted(_rows(model)) for model in FACTS + ROLLUPS}

    sales_facts_refresh_orders(order_ids=[mine.pk])
    sales_facts_refresh_orders(order_ids=[mine.pk])

    assert {model: sorted(_rows(model)) for model in FACTS + ROLLUPS} == before
    assert SalesTotals.objects.get().orders == 2
    assert_facts_match_raw_data()


def test_refreshing_a_shipped_order_takes_a_fixed_number_of_queries(tea, cups, warehouse, clerk, seller):
    small = shipped_order(lines=[(tea, 1)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    big = shipped_order(lines=[(tea, 2), (cups, 2)], warehouse=warehouse, clerk=clerk, salesperson=seller)

    sales_facts_rebuild()  # the snapshot's row exists

    with count_queries() as first:
        sales_facts_refresh_orders(order_ids=[small.pk])
    with count_queries() as second:
        sales_facts_refresh_orders(order_ids=[big.pk])

    # The order, the lock, its products, its margin days before and after, delete and insert of its three
    # facts, delete and insert of the six rollup rows it lies in (one day, one month), the snapshot's time,
    # and the savepoint around it all.
    assert len(first.captured_queries) == len(second.captured_queries) == 26
    assert_facts_match_raw_data()


def test_the_rebuild_replaces_every_row_and_can_run_twice(tea, cups, warehouse, clerk, seller):
    shipped_order(lines=[(tea, 2), (cups, 5)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    approved_order(lines=[(cups, 1)], by=seller)
    SalesTotals.objects.create(day=date(2020, 1, 1), channel="phone", salesperson=seller, net=Decimal("1"))

    sales_facts_rebuild()
    sales_facts_rebuild()

    assert not SalesTotals.objects.filter(day=date(2020, 1, 1)).exists()
    state = SnapshotState.objects.get(name=SNAPSHOT)
    assert state.rebuilt_at == state.refreshed_at is not None
    assert_facts_match_raw_data()


def test_refreshing_many_orders_at_once_equals_refreshing_each_and_the_rebuild(tea, cups, warehouse, clerk, seller):
    shipped = shipped_order(lines=[(tea, 2), (cups, 1)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    booked = approved_order(lines=[(cups, 3)], by=seller)
    other_day = approved_order(lines=[(tea, 1)], by=seller, approved_at=datetime(2026, 2, 27, 9, 0, tzinfo=SHANGHAI))
    sales_facts_rebuild()
    expected = {model: sorted(_rows(model)) for model in FACTS + ROLLUPS}
    for model in FACTS + ROLLUPS:
        model.objects.all().delete()

    sales_facts_refresh_orders(order_ids=[shipped.pk, booked.pk, other_day.pk, 999_999])

    assert {model: sorted(_rows(model)) for model in FACTS + ROLLUPS} == expected
    assert_facts_match_raw_data()


def test_refreshing_many_orders_takes_as_many_statements_as_refreshing_one(tea, cups, warehouse, clerk, seller):
    one = shipped_order(lines=[(tea, 1)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    many = [shipped_order(lines=[(tea, 2), (cups, n)], warehouse=warehouse, clerk=clerk, salesperson=seller) for n in (1, 2, 3)]
    sales_facts_rebuild()

    with count_queries() as first:
        sales_facts_refresh_orders(order_ids=[one.pk])
    with count_queries() as second:
        sales_facts_refresh_orders(order_ids=[order.pk for order in many])

    assert len(first.captured_queries) == len(second.captured_queries)
    rebuilt_equals_refreshed()


def test_the_rebuild_repairs_what_differs_and_leaves_the_other_rows_alone(tea, cups, warehouse, clerk, seller):
    kept = shipped_order(lines=[(tea, 2)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    damaged = shipped_order(lines=[(cups, 5)], warehouse=warehouse, clerk=clerk, salesperson=seller)
    sales_facts_rebuild()
    kept_rows = set(MarginLineFact.objects.filter(order=kept).values_list("pk", flat=True))
    MarginLineFact.objects.filter(order=damaged).update(cost=Decimal("1.00"))
    SalesLineFact.objects.filter(order=damaged).update(quantity=99)
    SalesOrderFact.objects.filter(order=kept).delete()
    MarginByProduct.objects.filter(product=cups).update(net=Decimal("0"))

    sales_facts_rebuild()

    assert_facts_match_raw_data()
    # Rows that were right are not rewritten (the table is patched, not refilled).
    assert set(MarginLineFact.objects.filter(order=kept).values_list("pk", flat=True)) == kept_rows

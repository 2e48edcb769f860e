"""Random sequences of receipts, allocations, cancellations, adjustments (refused ones included),
transfers and stock counts (finding less than is reserved included): after every step on hand =
Σ movements, reserved = Σ active reservations, nothing is negative and nothing is reserved beyond
what is on hand."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from config.actors import Actor  # noqa: E402
from config.outbox import outbox_dispatch
from customers.tests.factories import CustomerFactory
from inventory.counts.services import stock_count_open, stock_count_post, stock_count_record
from inventory.errors import InsufficientStock
from inventory.models import MovementKind, Reservation, ReservationState, StockLevel, StockMovement, Warehouse
from inventory.stock.services import stock_adjust, stock_post_movement, stock_receive, stock_verify_ledger
from inventory.tests.factories import ProductFactory, approved_order, order_taker
from orders.entry.services import order_cancel
from orders.fulfilment.services import order_allocate, order_allocate_waiting
from orders.models import BEFORE_FIRST_SHIPMENT, OrderStatus, SalesOrder, SalesOrderLine

# Stock moved by the system in these tests (the services check a person's permission).
STOCK_CLERK = Actor.system("system")

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db

EXAMPLE = itertools.count(1)
PRODUCTS = 2
WAREHOUSES = 3

index_of_product = st.integers(min_value=0, max_value=PRODUCTS - 1)
index_of_warehouse = st.integers(min_value=0, max_value=WAREHOUSES - 1)


def _with_role(user, role: str):
    from django.contrib.auth.models import Group

    user.groups.set(Group.objects.filter(name=role))
    return user


class StockLedgerMachine(RuleBasedStateMachine):
    """Each example gets fresh products and warehouses, so examples never see each other's stock."""

    def __init__(self):
        super().__init__()
        n = next(EXAMPLE)
        self.warehouses = [
            Warehouse.objects.create(code=f"X{n}-{i}", name=f"仓 {n}-{i}", priority=i + 1) for i in range(WAREHOUSES)
        ]
        self.products = [ProductFactory() for _ in range(PRODUCTS)]
        self.customer = CustomerFactory()
        self.clerk = order_taker()
        self.seller = _with_role(order_taker(), "sales")
        self.counter = _with_role(order_taker(), "warehouse")
        self.on_hand: dict[tuple[int, int], int] = defaultdict(int)  # the model: what on hand must be
        self.order_ids: list[int] = []
        self.refusals = 0

    def pair(self, p: int, w: int):
        return self.products[p], self.warehouses[w]

    def level(self, p: int, w: int) -> StockLevel | None:
        product, warehouse = self.pair(p, w)
        return StockLevel.objects.filter(product=product, warehouse=warehouse).first()

    @rule(p=index_of_product, w=index_of_warehouse, quantity=st.integers(min_value=1, max_value=20))
    def receive(self, p, w, quantity):
        product, warehouse = self.pair(p, w)
        stock_receive(warehouse=warehouse, quantities={product: quantity}, reference="stateful", by=STOCK_CLERK)
        self.on_hand[(p, w)] += quantity

    @rule(lines=st.lists(st.tuples(index_of_product, st.integers(min_value=1, max_value=15)), min_size=1, max_size=3))
    def allocate_a_new_order(self, lines):
        order = approved_order(
            lines=[(self.products[p], quantity) for p, quantity in lines], by=self.clerk, customer=self.customer
        )
        order_allocate(by=SYSTEM, order=order)
        self.order_ids.append(order.pk)

    @rule()
    def allocate_waiting_orders(self):
        order_allocate_waiting(by=SYSTEM, product_ids=[product.pk for product in self.products])

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def cancel_an_order(self, data):
        order_id = data.draw(st.sampled_from(self.order_ids))
        if SalesOrder.objects.get(pk=order_id).status not in BEFORE_FIRST_SHIPMENT:
            return
        order_cancel(order=SalesOrder.objects.get(pk=order_id), by=STOCK_CLERK, reason="x")

    @rule(p=index_of_product, w=index_of_warehouse, quantity=st.integers(min_value=-25, max_value=25).filter(bool))
    def adjust(self, p, w, quantity):
        product, warehouse = self.pair(p, w)
        before = self.level(p, w)
        try:
            stock_adjust(product=product, warehouse=warehouse, quantity=quantity, reason="stateful", by=STOCK_CLERK)
        except InsufficientStock:
            self.refusals += 1
            assert before is None or before.on_hand + quantity < before.reserved
            return
        self.on_hand[(p, w)] += quantity

    @rule(p=index_of_product, source=index_of_warehouse, destination=index_of_warehouse, quantity=st.integers(1, 20))
    def transfer(self, p, source, destination, quantity):
        if source == destination:
            return
        product = self.products[p]
        try:
            with transaction.atomic():
                stock_post_movement(
                    product=product,
                    warehouse=self.warehouses[source],
                    kind=MovementKind.TRANSFER_OUT,
                    quantity=-quantity,
                    document="T-stateful",
                )
                stock_post_movement(
                    product=product,
                    warehouse=self.warehouses[destination],
                    kind=MovementKind.TRANSFER_IN,
                    quantity=quantity,
                    document="T-stateful",
                )
        except InsufficientStock:
            self.refusals += 1
            return
        self.on_hand[(p, source)] -= quantity
        self.on_hand[(p, destination)] += quantity

    @rule(p=index_of_product, w=index_of_warehouse, counted=st.integers(min_value=0, max_value=30))
    def count_a_shelf(self, p, w, counted):
        """A count of one product posts whatever it finds, below what is reserved too; the orders
        that lose their reservations hear of it through the outbox."""
        product, warehouse = self.pair(p, w)
        count = stock_count_open(warehouse=warehouse, by=self.counter, sku_prefix=product.sku)
        stock_count_record(count=count, quantities={count.lines.get().pk: counted}, by=self.counter)
        stock_count_post(count=count, by=self.counter)
        outbox_dispatch()
        self.on_hand[(p, w)] = counted

    @invariant()
    def stock_rows_match_the_ledger_and_the_reservations(self):
        # One query: each stock row beside the sums it must equal.
        moved = StockMovement.objects.filter(product=OuterRef("product"), warehouse=OuterRef("warehouse")).order_by()
        held = Reservation.objects.filter(
            product=OuterRef("product"), warehouse=OuterRef("warehouse"), state=ReservationState.ACTIVE
        ).order_by()
        rows = {
            (pid, wid): (on_hand, reserved, moved_total, held_total)
            for pid, wid, on_hand, reserved, moved_total, held_total in StockLevel.objects.filter(
                product__in=self.products, warehouse__in=self.warehouses
            )
            .annotate(
                moved=Coalesce(Subquery(moved.values("product").annotate(t=Sum("quantity")).values("t")), 0),
                held=Coalesce(Subquery(held.values("product").annotate(t=Sum("quantity")).values("t")), 0),
            )
            .values_list("product", "warehouse", "on_hand", "reserved", "moved", "held")
        }
        for p, w in itertools.product(range(PRODUCTS), range(WAREHOUSES)):
            on_hand, reserved, moved_total, held_total = rows.get((self.products[p].pk, self.warehouses[w].pk), (0, 0, 0, 0))
            assert on_hand == moved_total == self.on_hand[(p, w)]
            assert reserved == held_total
            assert 0 <= reserved <= on_hand

    @invariant()
    def order_status_says_whether_everything_is_reserved(self):
        if not self.order_ids:
            return
        ordered = SalesOrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order").annotate(t=Sum("quantity"))
        held = (
            Reservation.objects.filter(order_line__order=OuterRef("pk"), state=ReservationState.ACTIVE)
            .order_by()
            .values("order_line__order")
            .annotate(t=Sum("quantity"))
        )
        orders = SalesOrder.objects.filter(pk__in=self.order_ids).annotate(
            ordered=Subquery(ordered.values("t")), held=Coalesce(Subquery(held.values("t")), 0)
        )
        for number, status, ordered_total, held_total in orders.values_list("number", "status", "ordered", "held"):
            found = (number, status, ordered_total, held_total)
            if status == OrderStatus.ALLOCATED:
                assert held_total == ordered_total, found
            elif status == OrderStatus.BACKORDERED:
                assert held_total < ordered_total, found
            else:
                assert status == OrderStatus.CANCELLED and held_total == 0, found


def test_stock_ledger_holds_under_random_operations():
    run_state_machine_as_test(
        StockLedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # The whole database agrees too, by the nightly check's aggregate queries.
    assert stock_verify_ledger().ok

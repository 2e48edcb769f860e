"""Test data for the review tests: customers, products, stock and orders ready to be submitted.

factory_boy for the plain rows; orders are built through the order services (numbering, totals,
FSM transitions) so the review sees what the entry pages would produce.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer
from customers.tests import factories as customer_factories
from inventory.models import Product, StockLevel
from inventory.tests import factories as inventory_factories
from orders.entry.services import order_next_number, order_recompute_totals
from orders.models import OrderEvent, OrderStatus, SalesOrder, SalesOrderLine


class CustomerFactory(customer_factories.CustomerFactory):
    """A customer the review can reach by email, in Chinese, with room on its credit."""

    code = factory.Sequence(lambda n: f"RV{n:05d}")
    email = factory.Sequence(lambda n: f"buyer{n}@customer.example")
    language = "zh-hans"
    credit_limit = Decimal("1000000.00")


class AddressFactory(customer_factories.AddressFactory):
    customer = factory.SubFactory(CustomerFactory)


class ContactFactory(customer_factories.ContactFactory):
    customer = factory.SubFactory(CustomerFactory)
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class ProductFactory(inventory_factories.ProductFactory):
    sku = factory.Sequence(lambda n: f"RV-SKU-{n:04d}")


class WarehouseFactory(inventory_factories.WarehouseFactory):
    class Meta:
        django_get_or_create = ["code"]

    code = "RV-WH1"


def put_in_stock(product: Product, quantity: int) -> None:
    """Free stock the stock check can see (a stock row, without the ledger the review never reads)."""
    level, _created = StockLevel.objects.get_or_create(product=product, warehouse=WarehouseFactory())
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)


def make_order(
    *,
    by,
    customer: Customer | None = None,
    lines=None,
    address: bool = True,
    contact: bool = False,
    stocked: bool = True,
    **fields,
) -> SalesOrder:
    """A draft order; `lines` are (product, quantity, unit_price, discount_percent), default one line at list price.

    `stocked` receives enough stock for every line, so only the rules under test fire.
    """
    customer = customer or CustomerFactory()
    if lines is None:
        lines = [(ProductFactory(), 1, None, Decimal("0"))]
    with transaction.atomic():
        order = SalesOrder.objects.create(
            number=order_next_number(),
            customer=customer,
            created_by=by,
            shipping_address=AddressFactory(customer=customer) if address else None,
            contact=ContactFactory(customer=customer) if contact else None,
            **fields,
        )
        for position, (product, quantity, unit_price, discount) in enumerate(lines, start=1):
            line = SalesOrderLine(
                order=order,
                position=position,
                product=product,
                description=product.name,
                quantity=quantity,
                unit_price=product.list_price if unit_price is None else Decimal(unit_price),
                discount_percent=Decimal(discount),
                tax_rate=product.tax_rate,
            )
            line.compute_amounts()
            line.save()
            if stocked:
                put_in_stock(product, quantity)
        order_recompute_totals(order=order)
        order.save()
    return order


def submit(order: SalesOrder, *, by) -> SalesOrder:
    """Put the order in `submitted` as the entry service would, without its preconditions (a fixture
    shortcut: the automatic checks must also judge orders that entry would not let through)."""
    with transaction.atomic():
        from_state = order.status
        SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.SUBMITTED, submitted_at=timezone.now())
        OrderEvent.record(order, kind=OrderEvent.Kind.TRANSITION, actor=by, from_state=from_state, to_state=OrderStatus.SUBMITTED)
    return SalesOrder.objects.get(pk=order.pk)


def reload(order: SalesOrder) -> SalesOrder:
    """A fresh copy (the status field is protected, so refresh_from_db is not available)."""
    return SalesOrder.objects.get(pk=order.pk)


def submit_and_check(order: SalesOrder, *, by) -> SalesOrder:
    """Submit, then run the review task as the worker would; returns the order as it ends up."""
    from orders.tasks import review_order

    submit(order, by=by)
    review_order.delay(order.pk)
    return reload(order)

"""Test data for the inventory app: plain rows with factory_boy, documents through their services."""

from __future__ import annotations

from decimal import Decimal

import factory

from inventory.models import Product, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"P-{n:05d}")
    name = factory.Sequence(lambda n: f"测试商品 {n}")
    barcode = None
    list_price = Decimal("100.00")
    cost = Decimal("60.00")
    tax_rate = Decimal("0.1300")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.Sequence(lambda n: f"仓库 {n}")
    priority = factory.Sequence(lambda n: n + 1)


# --- stock counts and transfers -------------------------------------------------------------------


def stock_put(*, product, warehouse, quantity: int, by=None):
    """Receive `quantity` of a product into a warehouse through the ledger (the one way stock changes)."""
    from inventory.models import MovementKind
    from inventory.stock.services import stock_post_movement

    return stock_post_movement(
        product=product, warehouse=warehouse, kind=MovementKind.RECEIPT, quantity=quantity, reason="test stock", by=by
    )


def stock_take(*, product, warehouse, quantity: int, by=None):
    """Ship `quantity` out of a warehouse through the ledger."""
    from inventory.models import MovementKind
    from inventory.stock.services import stock_post_movement

    return stock_post_movement(
        product=product, warehouse=warehouse, kind=MovementKind.SHIPMENT, quantity=-quantity, reason="test shipment", by=by
    )


def stock_reserve(*, product, warehouse, quantity: int) -> None:
    """Hold stock for orders without an order (tests of 'never below reserved')."""
    from django.db.models import F

    from inventory.models import StockLevel

    StockLevel.objects.filter(product=product, warehouse=warehouse).update(reserved=F("reserved") + quantity)


def open_count(*, warehouse, by, **scope):
    """A stock count opened through its service (snapshot taken)."""
    from inventory.counts.services import stock_count_open

    return stock_count_open(warehouse=warehouse, by=by, **scope)


def draft_transfer(*, source, destination, by, lines=()):
    """A draft transfer with lines [(product, quantity), ...], made through its services."""
    from inventory.transfers.services import transfer_add_line, transfer_create

    transfer = transfer_create(source=source, destination=destination, by=by)
    for product, quantity in lines:
        transfer_add_line(transfer=transfer, product=product, quantity=quantity, by=by)
    transfer.refresh_from_db()
    return transfer


# --- allocation, alerts, replenishment ------------------------------------------------------------


def order_taker():
    """A salesperson to enter orders for allocation tests."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return User.objects.create_user(username=f"order-taker-{User.objects.count() + 1}")  # no password: no slow hashing


def approved_order(*, lines, by=None, customer=None, approved_at=None):
    """An order with `lines` [(product, quantity), ...] taken draft → submitted → approved through
    the state machine (the review rules are not run, allocation is not started)."""
    from django.db import transaction
    from django.utils import timezone

    from config.actors import Actor
    from config.transitions import transition_apply
    from customers.tests.factories import AddressFactory, CustomerFactory
    from orders.entry.services import order_next_number, order_recompute_totals
    from orders.models import SalesOrder, SalesOrderLine

    by = by or order_taker()
    customer = customer or CustomerFactory()
    address = customer.addresses.first() or AddressFactory(customer=customer)
    with transaction.atomic():
        order = SalesOrder.objects.create(number=order_next_number(), customer=customer, shipping_address=address, created_by=by)
        for position, (product, quantity) in enumerate(lines, start=1):
            line = SalesOrderLine(
                order=order,
                position=position,
                product=product,
                description=product.name,
                quantity=quantity,
                unit_price=product.list_price,
                tax_rate=product.tax_rate,
            )
            line.compute_amounts()
            line.save()
        order_recompute_totals(order=order)
        order.save()
        system = Actor.system("automatic_checks")
        order = transition_apply(obj=order, transition="submit", actor=system)
        order = transition_apply(obj=order, transition="pass_checks", actor=system)
        SalesOrder.objects.filter(pk=order.pk).update(approved_at=approved_at or timezone.now())
    return SalesOrder.objects.get(pk=order.pk)


def stocked_product(*, stock: dict, safety_stock: int = 0, **product_fields):
    """A product received into warehouses: stock = {warehouse: quantity}."""
    from inventory.models import StockLevel

    product = ProductFactory(**product_fields)
    for warehouse, quantity in stock.items():
        if quantity:
            stock_put(product=product, warehouse=warehouse, quantity=quantity)
        if safety_stock:
            StockLevel.objects.update_or_create(product=product, warehouse=warehouse, defaults={"safety_stock": safety_stock})
    return product

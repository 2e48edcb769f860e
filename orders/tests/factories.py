"""Test data for order entry, lists and detail: the customers' and products' own factories, orders through the services."""

from __future__ import annotations

from decimal import Decimal

from customers.models import Address, Customer
from customers.tests.factories import AddressFactory, ContactFactory, CustomerFactory
from inventory.models import Product
from inventory.tests.factories import ProductFactory
from orders.entry.services import LineInput, OrderHeader, order_create
from orders.models import Channel, SalesOrder

__all__ = [
    "AddressFactory",
    "ContactFactory",
    "CustomerFactory",
    "ProductFactory",
    "customer_with_address",
    "draft_order",
    "ean13",
]


def ean13(body12: str) -> str:
    """A valid EAN-13 from its first 12 digits."""
    checksum = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - checksum % 10) % 10)


def customer_with_address(**customer_fields) -> tuple[Customer, Address]:
    customer = CustomerFactory(**customer_fields)
    address = AddressFactory(customer=customer, is_default=True)
    return customer, address


def draft_order(
    *,
    by,
    lines: int = 1,
    customer: Customer | None = None,
    address: Address | None = None,
    customer_po: str = "",
    products: list[Product] | None = None,
    quantity: int = 2,
    unit_price: Decimal = Decimal("100.00"),
    discount_percent: Decimal = Decimal("0"),
) -> SalesOrder:
    """A draft entered through order_create, with `lines` lines."""
    if customer is None:
        customer, address = customer_with_address()
    products = products or ProductFactory.create_batch(lines)
    return order_create(
        header=OrderHeader(customer=customer, shipping_address=address, channel=Channel.PHONE, customer_po=customer_po),
        lines=[
            LineInput(product=product, quantity=quantity, unit_price=unit_price, discount_percent=discount_percent)
            for product in products
        ],
        by=by,
    )

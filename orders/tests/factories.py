"""Test data for order entry, lists and detail: plain rows with factory_boy, orders through the services."""

from __future__ import annotations

from decimal import Decimal

import factory

from customers.models import Address, Contact, Customer
from inventory.models import Product
from orders.models import Channel, SalesOrder
from orders.services import LineInput, OrderHeader, order_create


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"深圳市测试贸易有限公司 {n}")
    phone = "0755-8888-0000"
    email = factory.Sequence(lambda n: f"buyer{n}@test.example")
    credit_limit = Decimal("1000000.00")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    kind = Address.Kind.SHIPPING
    recipient = "陈先生"
    phone = "138-0000-1111"
    line1 = "深南大道 1 号"
    city = "深圳"
    province = "广东"
    postal_code = "518000"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = "周采购"
    phone = "139-0000-2222"
    is_primary = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"T-SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Test widget {n}")
    barcode = None
    list_price = Decimal("100.00")
    tax_rate = Decimal("0.1300")


def ean13(body12: str) -> str:
    """A valid EAN-13 from its first 12 digits."""
    checksum = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - checksum % 10) % 10)


def customer_with_address(**customer_fields) -> tuple[Customer, Address]:
    customer = CustomerFactory(**customer_fields)
    address = AddressFactory(customer=customer, is_default=True)
    return customer, address


def draft_order(*, by, lines: int = 1, customer: Customer | None = None, address: Address | None = None,
                customer_po: str = "", products: list[Product] | None = None, quantity: int = 2,
                unit_price: Decimal = Decimal("100.00"), discount_percent: Decimal = Decimal("0")) -> SalesOrder:
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

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

from customers.models import Address, Contact, Customer
from inventory.models import Product, StockLevel, Warehouse
from orders.models import SalesOrder, SalesOrderLine
from orders.services import order_apply_transition, order_next_number, order_recompute_totals


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"RV{n:05d}")
    name = factory.Sequence(lambda n: f"华南贸易有限公司 {n}")
    phone = "020-8888-0000"
    email = factory.Sequence(lambda n: f"buyer{n}@customer.example")
    language = "zh-hans"
    credit_limit = Decimal("1000000.00")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    kind = Address.Kind.SHIPPING
    recipient = "王经理"
    phone = "138-0000-0000"
    line1 = "天河路 100 号"
    city = "广州"
    province = "广东"
    postal_code = "510000"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = "李采购"
    phone = "139-0000-0000"
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"RV-SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Stainless bolt M{n}")
    list_price = Decimal("100.00")
    tax_rate = Decimal("0.1300")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ["code"]

    code = "RV-WH1"
    name = "Guangzhou main warehouse"


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
    """Drive the FSM to submitted as the entry service does (without queueing the review)."""
    with transaction.atomic():
        submitted = order_apply_transition(order=order, transition=lambda o: o.submit, by=by)
        submitted.submitted_at = timezone.now()
        submitted.save(update_fields=["submitted_at"])
    return submitted


def reload(order: SalesOrder) -> SalesOrder:
    """A fresh copy (the status field is protected, so refresh_from_db is not available)."""
    return SalesOrder.objects.get(pk=order.pk)


def submit_and_check(order: SalesOrder, *, by) -> SalesOrder:
    """Submit, then run the review task as the worker would; returns the order as it ends up."""
    from orders.tasks import review_order

    submit(order, by=by)
    review_order.delay(order.pk)
    return reload(order)

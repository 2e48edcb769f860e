"""Test data for customers: factories build rows directly; services are tested on their own."""

from __future__ import annotations

from decimal import Decimal

import factory

from customers.models import Address, Complaint, Contact, Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"测试贸易有限公司 {n}")
    alt_name = factory.Sequence(lambda n: f"Test Trading Co. {n}")
    phone = "+86 21 5555 0100"
    credit_limit = Decimal("100000.00")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    kind = Address.Kind.SHIPPING
    recipient = "王伟"
    phone = "13800138000"
    line1 = "浦东新区世纪大道 100 号"
    city = "上海"
    province = "上海市"
    postal_code = "200120"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人 {n}")
    phone = "13900139000"


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    number = factory.Sequence(lambda n: f"CP-T-{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    subject = "保温杯漏水"
    description = "客户收到的 20 只保温杯中有 3 只漏水。"


def make_order(*, customer, user, status="draft", total=Decimal("0.00"), number=None):
    """A bare sales order in any state (the FSM field may be set when the row is created)."""
    from orders.models import SalesOrder

    make_order.counter = getattr(make_order, "counter", 0) + 1
    return SalesOrder.objects.create(
        number=number or f"SO-T-{make_order.counter:06d}",
        customer=customer,
        created_by=user,
        status=status,
        total=total,
        subtotal=total,
    )

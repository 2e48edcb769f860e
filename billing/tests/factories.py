"""Test data for billing: shipped orders (their fulfilment quantities set directly) and invoices
taken through the services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import F

from billing.invoices.services import invoice_draft_from_orders, invoice_issue
from customers.tests.factories import AddressFactory, CustomerFactory
from inventory.tests.factories import ProductFactory, approved_order
from orders.models import SalesOrder

VALID_TAX_ID = "91440300708461136T"


def finance_user(username: str | None = None):
    User = get_user_model()
    user = User.objects.create_user(username=username or f"finance-{User.objects.count() + 1}")
    user.groups.set(Group.objects.filter(name="finance"))
    return User.objects.get(pk=user.pk)


def company_customer(**fields):
    customer = CustomerFactory(tax_id=VALID_TAX_ID, email="buyer@example.com", **fields)
    AddressFactory(customer=customer, kind="billing", is_default=True)
    return customer


def shipped_order(*, lines=None, customer=None, products: int = 1, quantity: int = 3, status: str = "delivered") -> SalesOrder:
    """An approved order whose lines all shipped (set directly: the shipping flow is logistics' own test)."""
    lines = lines or [(ProductFactory(), quantity) for _ in range(products)]
    order = approved_order(lines=lines, customer=customer)
    order.lines.update(quantity_shipped=F("quantity"))
    SalesOrder.objects.filter(pk=order.pk).update(status=status)
    return SalesOrder.objects.get(pk=order.pk)


def issued_invoice(*, order=None, by=None, kind: str = "ordinary", **order_fields):
    """A shipped order invoiced and issued (an ordinary invoice unless told)."""
    by = by or finance_user()
    order = order or shipped_order(**order_fields)
    invoice = invoice_draft_from_orders(orders=[order], by=by, kind=kind).invoice
    return invoice_issue(invoice=invoice, by=by)

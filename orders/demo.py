"""Demo orders: about a hundred, entered, submitted, reviewed and cancelled through the services.

Numbers, totals, findings and timelines are therefore real; the orders are then moved back in time
(order and timeline together) so the list has a history to filter. Running it again adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from config.errors import DomainError
from customers.models import Address, Customer
from inventory.models import Product

from .entry.services import (
    LineInput,
    OrderHeader,
    line_problems,
    order_cancel,
    order_create,
    order_submit,
)
from .models import Channel, OrderEvent, OrderStatus, SalesOrder
from .review.services import order_approve, order_reject, order_run_checks

DEMO_PO_PREFIX = "DEMO-"
DEMO_ORDER_COUNT = 100
DISCOUNTS = [Decimal("0"), Decimal("0"), Decimal("0"), Decimal("5"), Decimal("8"), Decimal("12")]
CANCEL_REASONS = ["Customer ordered by mistake.", "Customer found a cheaper supplier.", "Duplicate of a phone order."]
REJECT_REASONS = [
    "Credit limit exceeded: ask for prepayment.",
    "Discount too high for this customer.",
    "Confirm the address first.",
]


def _lines(rng: random.Random, products: list[Product], by) -> list[LineInput]:
    chosen = rng.sample(products, k=min(len(products), rng.randint(1, 5)))
    lines = []
    for product in chosen:
        discount = rng.choice(DISCOUNTS)
        quantity = rng.choice([1, 2, 5, 10, 20, 50, 120])
        if line_problems(
            product=product, quantity=quantity, unit_price=product.list_price, discount_percent=discount, may_override_price=False
        ):
            discount = Decimal("0")
        lines.append(LineInput(product=product, quantity=quantity, unit_price=product.list_price, discount_percent=discount))
    return lines


def _backdate(order: SalesOrder, days: int, rng: random.Random) -> None:
    """Move an order and its timeline back in time together, so its history stays in order."""
    shift = timedelta(days=days, hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
    moved = {"created_at": F("created_at") - shift, "updated_at": F("updated_at") - shift}
    for stamp in ("submitted_at", "approved_at"):
        if getattr(order, stamp) is not None:
            moved[stamp] = F(stamp) - shift
    SalesOrder.objects.filter(pk=order.pk).update(**moved)
    OrderEvent.objects.filter(order=order).update(at=F("at") - shift)


def seed(*, users, stdout) -> None:
    """About 100 demo orders over draft, in review, rejected, approved and cancelled; skipped if they exist."""
    if SalesOrder.objects.filter(customer_po__startswith=DEMO_PO_PREFIX).exists():
        stdout.write("Demo orders exist already.")
        return
    shipping = Address.objects.filter(kind=Address.Kind.SHIPPING, customer__is_blocked=False)
    # Default addresses come last, so they win in the dict: one address per customer.
    addresses = {address.customer_id: address for address in shipping.order_by("is_default", "-pk")}
    customers = list(Customer.objects.filter(pk__in=addresses).order_by("pk")[:60])
    products = list(Product.objects.filter(is_active=True).order_by("pk")[:200])
    if not customers or not products:
        stdout.write("No customers with a shipping address or no products yet: demo orders skipped.")
        return
    rng = random.Random(2026)
    salespeople = [users["sales"], users["sales2"]]
    reviewer = users["reviewer"]
    channels = [c for c, _label in Channel.choices]
    counts: dict[str, int] = {}
    for i in range(DEMO_ORDER_COUNT):
        customer = customers[i % len(customers)]
        by = salespeople[i % 2]
        header = OrderHeader(
            customer=customer,
            shipping_address=addresses[customer.pk],
            channel=rng.choice(channels),
            customer_po=f"{DEMO_PO_PREFIX}{i + 1:04d}",
            notes=rng.choice(["", "", "Deliver before noon.", "Call the warehouse before delivery."]),
        )
        order = order_create(header=header, lines=_lines(rng, products, by), by=by)
        plan = i % 10
        try:
            if plan == 2:
                order = order_cancel(order=order, by=by, reason=rng.choice(CANCEL_REASONS))
            elif plan >= 3:
                order_submit(order=order, by=by)
                with transaction.atomic():  # the checks keep no savepoint of their own
                    order = order_run_checks(order_id=order.pk)
                if order.status == OrderStatus.IN_REVIEW and plan in (3, 4, 5, 6):
                    order = order_approve(order=order, by=reviewer, note="Checked with the customer.")
                elif order.status == OrderStatus.IN_REVIEW and plan == 7:
                    order = order_reject(order=order, by=reviewer, reason=rng.choice(REJECT_REASONS))
                elif order.status == OrderStatus.APPROVED and plan == 9:
                    order = order_cancel(order=order, by=by, reason=rng.choice(CANCEL_REASONS))
        except DomainError as error:
            stdout.write(f"Demo order {order.number} stays {order.status}: {error}")
        order = SalesOrder.objects.get(pk=order.pk)
        _backdate(order, days=DEMO_ORDER_COUNT - i, rng=rng)
        counts[order.status] = counts.get(order.status, 0) + 1
    summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    stdout.write(f"Demo orders: {summary}.")

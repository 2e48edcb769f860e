"""The customer months after the first rebuild: written again for the customers whose orders changed and
for a slice of the others each night, they hold what writing every month from scratch gives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from orders.models import SalesOrder
from reports.customers import snapshot
from reports.customers.models import CustomerMonth
from reports.customers.snapshot import customer_snapshot_rebuild

from .factories import CustomerFactory, order_on

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 6, 15, 12, 0))


def months() -> set[tuple]:
    return set(CustomerMonth.objects.values_list("customer_id", "month", "orders", "net", "gross", "is_first_month"))


def from_scratch(now) -> set[tuple]:
    """The months every customer's orders give, all written anew (the first rebuild's way)."""
    CustomerMonth.objects.all().delete()
    customer_snapshot_rebuild(now=now)
    return months()


@pytest.fixture
def customers(make_user):
    seller = make_user("sales")
    made = [CustomerFactory() for _ in range(5)]
    for i, customer in enumerate(made):
        for n in range(i + 1):
            order_on(customer=customer, user=seller, days_ago=20 * n + i, total=50 * (n + 1), now=NOW)
    return {"seller": seller, "customers": made}


def test_a_rebuild_writes_the_months_of_customers_with_new_orders_as_from_scratch(customers):
    customer_snapshot_rebuild(now=NOW)
    changed = customers["customers"][1]
    order_on(customer=changed, user=customers["seller"], days_ago=70, total="30.00", now=NOW)  # a new first month
    later = NOW + timedelta(days=1)
    customer_snapshot_rebuild(now=later)
    nightly = months()
    assert (changed.pk, (NOW - timedelta(days=70)).date().replace(day=1)) in {(c, m) for c, m, *_ in nightly}
    assert nightly == from_scratch(later)


def test_an_order_changed_without_a_trace_reaches_its_months_when_the_customers_slice_comes(customers):
    customer_snapshot_rebuild(now=NOW)
    orders = SalesOrder.objects.filter(customer=customers["customers"][3])
    orders.update(updated_at=NOW - timedelta(days=30))  # nothing of the customer's changed since: then one does
    quiet = orders.order_by("pk").first()
    SalesOrder.objects.filter(pk=quiet.pk).update(total=quiet.total + 7)
    for night in range(1, snapshot.MONTH_SLICES + 1):
        customer_snapshot_rebuild(now=NOW + timedelta(days=night))
    nightly = months()
    assert nightly == from_scratch(NOW + timedelta(days=snapshot.MONTH_SLICES))

"""Order numbers: SO-<year>-<6 digits>, unique and gapless even when many clerks save at the same moment."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from orders.entry.services import LineInput, OrderHeader, order_create
from orders.models import SalesOrder
from orders.tests.factories import ProductFactory, customer_with_address

THREADS = 8
ORDERS_PER_THREAD = 10


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_a_new_order_gets_the_next_number_of_the_year(make_user):
    clerk = make_user("sales")
    customer, address = customer_with_address()
    product = ProductFactory()
    header = OrderHeader(customer=customer, shipping_address=address)
    first = order_create(header=header, lines=[LineInput(product=product, quantity=1, unit_price=product.list_price)], by=clerk)
    second = order_create(header=header, lines=[], by=clerk)
    year = timezone.localdate().year
    assert re.fullmatch(rf"SO-{year}-\d{{6}}", first.number)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_passwords")
def test_clerks_saving_at_the_same_moment_get_distinct_numbers(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL")
    clerks = [make_user("sales") for _ in range(THREADS)]
    customer, address = customer_with_address()
    product = ProductFactory()
    header = OrderHeader(customer=customer, shipping_address=address)
    start = threading.Barrier(THREADS)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def clerk_enters_orders(clerk):
        try:
            start.wait()
            for _ in range(ORDERS_PER_THREAD):
                order = order_create(
                    header=header, lines=[LineInput(product=product, quantity=1, unit_price=product.list_price)], by=clerk
                )
                with lock:
                    numbers.append(order.number)
        except BaseException as error:  # reported below, in the test's thread
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk_enters_orders, args=(clerk,)) for clerk in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    total = THREADS * ORDERS_PER_THREAD
    assert len(numbers) == total
    assert len(set(numbers)) == total
    values = sorted(int(number[-6:]) for number in numbers)
    # Nothing rolled back, so the sequence handed out consecutive values (a rollback would leave a gap).
    assert values == list(range(values[0], values[0] + total))
    assert SalesOrder.objects.count() == total

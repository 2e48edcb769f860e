"""A worker killed mid-task loses no order: the OOM killer taking the pool child (the task goes back
to the queue: acks_late + reject_on_worker_lost), or the whole worker dying (a new worker's beat
dispatches the outbox). Either way the order is checked and allocated exactly once."""

from __future__ import annotations

import os
import signal
import uuid

import pytest

from config import outbox
from inventory.models import StockLevel
from inventory.tests.factories import WarehouseFactory, stocked_product
from orders.entry.services import order_submit
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.tests.factories import customer_with_address, draft_order
from tests.workers import Worker, database_url, require_redis_and_postgres, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUANTITY = 2


@pytest.fixture
def stack(tmp_path, monkeypatch):
    """The environment of the test's workers and a producer that sends to their private queue."""
    from config.celery import app

    redis_url = require_redis_and_postgres()
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TEST_WORKER_QUEUE": queue,
        "TEST_WORKER_MARKER": str(tmp_path / "checks-started"),
        "OUTBOX_DISPATCH_SECONDS": "2",
    }
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    # A commit's kick goes to the test's workers (not to whatever worker serves the default queue).
    monkeypatch.setattr(outbox, "_kick", lambda: outbox.dispatch_outbox.apply_async(queue=queue))
    workers: list[Worker] = []

    def start(name: str, **options) -> Worker:
        worker = Worker(name=f"{name}-{queue}", queue=queue, env=env, log=tmp_path / f"{name}.log", **options)
        workers.append(worker)
        return worker

    try:
        yield {"start": start, "marker": tmp_path / "checks-started", "tmp": tmp_path}
    finally:
        app.conf.task_always_eager = True
        for worker in workers:
            worker.stop()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def submit_an_order(sales):
    """A draft that passes every check, submitted: its checks run in the worker, through the outbox."""
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    customer, address = customer_with_address()
    draft = draft_order(by=sales, customer=customer, address=address, products=[product], quantity=QUANTITY)
    return order_submit(order=draft, by=sales), product, warehouse


def killed_pid(marker) -> int:
    return int(marker.read_text())


def assert_checked_and_allocated_once(order, product, warehouse, logs: str) -> None:
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.status == OrderStatus.ALLOCATED, f"order is {order.status}; worker logs:\n{logs}"
    moves = order.events.filter(kind=OrderEvent.Kind.TRANSITION)
    assert moves.filter(from_state=OrderStatus.SUBMITTED, to_state=OrderStatus.APPROVED).count() == 1
    assert moves.filter(to_state=OrderStatus.ALLOCATED).count() == 1
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == QUANTITY


def test_a_killed_pool_child_task_goes_back_to_the_queue_and_runs_once(stack, make_user):
    worker = stack["start"]("pool")
    order, product, warehouse = submit_an_order(make_user("sales"))

    assert wait_for(stack["marker"].exists, seconds=60, worker=worker), f"the checks never started:\n{worker.output()}"
    child = killed_pid(stack["marker"])
    assert child != worker.process.pid  # the pool's child, not the worker itself
    os.kill(child, signal.SIGKILL)  # what the OOM killer does
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED

    # No beat here: only the rejected message, back in the queue, can move the order on.
    done = wait_for(lambda: SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED, seconds=60)
    assert worker.alive()
    assert done, f"the order stayed {SalesOrder.objects.get(pk=order.pk).status}; worker log:\n{worker.output()}"
    assert_checked_and_allocated_once(order, product, warehouse, worker.output())


def test_a_killed_worker_loses_no_order_the_next_worker_carries_it_out(stack, make_user):
    first = stack["start"]("first")
    order, product, warehouse = submit_an_order(make_user("sales"))
    assert wait_for(stack["marker"].exists, seconds=60, worker=first), f"the checks never started:\n{first.output()}"
    first.kill_all()  # the worker and its pool child, mid-task
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED

    # A new worker with beat: the outbox dispatcher (every few seconds) and the sweeper (every
    # minute) find the event the killed one left; it must be done well within the sweeper's interval.
    second = stack["start"]("second", beat_schedule=stack["tmp"] / "beat-schedule")
    done = wait_for(lambda: SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED, seconds=60, worker=second)
    assert done, f"the order stayed {SalesOrder.objects.get(pk=order.pk).status}; worker log:\n{second.output()}"
    assert_checked_and_allocated_once(order, product, warehouse, second.output())

"""Allocate all waiting orders: a background run in batches with one progress row; one run at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor
from config.errors import PermissionRefused
from inventory.models import Reservation, ReservationState
from inventory.tests.factories import WarehouseFactory, approved_order, stocked_product
from orders.fulfilment import bulk, tasks
from orders.fulfilment.bulk import bulk_allocation_stale, bulk_allocation_start, bulk_allocation_step, bulk_allocation_work
from orders.fulfilment.models import BulkAllocation
from orders.models import OrderEvent, OrderStatus, SalesOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def sh():
    return WarehouseFactory(code="SH", priority=1)


def statuses(orders) -> list[str]:
    return [SalesOrder.objects.get(pk=order.pk).status for order in orders]


def test_allocate_all_creates_one_progress_row_that_the_task_finishes(client_as, sh):
    product = stocked_product(stock={sh: 5})
    orders = [approved_order(lines=[(product, 2)]) for _ in range(3)]
    client = client_as("warehouse")
    response = client.post(reverse("orders:allocation_run"), {"all": "1"})
    assert response.status_code == 302
    run = BulkAllocation.objects.get()
    assert (run.running, run.total, run.done, run.allocated, run.backordered, run.failed) == (False, 3, 3, 2, 1, 0)
    assert run.started_by == client.user and run.finished_at is not None
    assert statuses(orders) == [OrderStatus.ALLOCATED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED]
    page = client.get(response.url).content.decode()
    assert "Allocating 3 waiting orders, oldest approval first." in page
    assert "2 orders allocated, 1 backordered." in page


def test_a_second_start_while_one_runs_shows_the_running_one(client_as, sh, monkeypatch):
    product = stocked_product(stock={sh: 5})
    approved_order(lines=[(product, 2)])
    kicked = []
    monkeypatch.setattr(tasks.allocate_all_waiting, "delay", lambda run_id: kicked.append(run_id))  # no worker yet
    client = client_as("warehouse")
    client.post(reverse("orders:allocation_run"), {"all": "1"})
    response = client.post(reverse("orders:allocation_run"), {"all": "1"}, follow=True)
    run = BulkAllocation.objects.get()
    assert run.running and kicked == [run.pk]  # started once, the second click did not start or kick another
    page = response.content.decode()
    assert "already running" in page and 'id="allocation-progress"' in page and "0 of 1 orders handled" in page
    assert "Allocate all waiting orders" not in page  # no button while it runs


def test_the_database_refuses_a_second_running_row(make_user):
    BulkAllocation.objects.create(total=1, order_ids=[1])
    with pytest.raises(IntegrityError), transaction.atomic():
        BulkAllocation.objects.create(total=1, order_ids=[1])
    BulkAllocation.objects.create(running=False, finished_at=timezone.now())  # finished rows are any number


def test_start_returns_the_running_one_when_another_request_won_the_race(make_user, monkeypatch, sh):
    """Two requests both saw no running row; the database lets one insert, the other gets that one."""
    product = stocked_product(stock={sh: 5})
    approved_order(lines=[(product, 1)])
    first, started = bulk_allocation_start(by=make_user("warehouse"))
    assert started
    real_filter = BulkAllocation.objects.filter
    monkeypatch.setattr(
        BulkAllocation.objects, "filter", lambda *a, **k: real_filter(pk=None) if k == {"running": True} else real_filter(*a, **k)
    )
    second, started = bulk_allocation_start(by=make_user("warehouse"))
    assert (second.pk, started) == (first.pk, False)
    assert BulkAllocation.objects.count() == 1


def test_nothing_waiting_records_a_finished_run(make_user):
    run, started = bulk_allocation_start(by=make_user("warehouse"))
    assert started and not run.running and run.total == 0 and run.finished_at is not None


def test_progress_partial_renders_for_warehouse_and_manager(client_as, sh, monkeypatch):
    product = stocked_product(stock={sh: 1})
    for _ in range(3):
        approved_order(lines=[(product, 1)])
    monkeypatch.setattr(bulk, "BATCH", 2)
    run, _started = bulk_allocation_start(by=Actor.system("allocation"))
    assert bulk_allocation_step(run_id=run.pk, token="w1")  # one batch of two; one order left
    url = reverse("orders:allocation_progress", args=[run.pk])
    for role in ("warehouse", "manager"):
        response = client_as(role).get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "2 of 3 orders handled" in page and "1 order allocated, 1 backordered." in page
        assert 'hx-trigger="every 2s"' in page  # still running: the page keeps asking
    assert not bulk_allocation_step(run_id=run.pk, token="w1")  # the last batch finishes it
    page = client_as("manager").get(url).content.decode()
    assert "hx-trigger" not in page and "1 order allocated, 2 backordered." in page


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance", "manager"])
def test_only_those_who_allocate_may_start_a_run(client_as, role, sh):
    product = stocked_product(stock={sh: 5})
    order = approved_order(lines=[(product, 1)])
    response = client_as(role).post(reverse("orders:allocation_run"), {"all": "1"})
    assert response.status_code == 403
    assert not BulkAllocation.objects.exists() and statuses([order]) == [OrderStatus.APPROVED]


def test_the_service_refuses_an_actor_without_the_permission(make_user):
    with pytest.raises(PermissionRefused):
        bulk_allocation_start(by=make_user("sales"))


def test_progress_needs_the_order_view_permission(client, make_user):
    run = BulkAllocation.objects.create(running=False, finished_at=timezone.now())
    client.force_login(make_user())
    assert client.get(reverse("orders:allocation_progress", args=[run.pk])).status_code == 403


def test_two_workers_on_one_run_allocate_and_count_each_order_once(make_user, sh, monkeypatch):
    """A redelivered message runs the task twice: the one holding the lease works, the other stops."""
    product = stocked_product(stock={sh: 10})
    orders = [approved_order(lines=[(product, 2)]) for _ in range(3)]
    monkeypatch.setattr(bulk, "BATCH", 1)
    run, _started = bulk_allocation_start(by=make_user("warehouse"))
    assert bulk_allocation_step(run_id=run.pk, token="first")
    assert not bulk_allocation_step(run_id=run.pk, token="second")  # held by the first
    # The first worker dies; once its lease runs out the second takes over where it stopped.
    BulkAllocation.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    bulk_allocation_work(run.pk)
    run.refresh_from_db()
    assert (run.running, run.done, run.allocated, run.backordered) == (False, 3, 3, 0)
    assert statuses(orders) == [OrderStatus.ALLOCATED] * 3
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == 3
    assert OrderEvent.objects.filter(kind="transition", to_state=OrderStatus.ALLOCATED).count() == 3


def test_a_batch_counted_by_a_worker_that_lost_its_lease_is_not_counted_again(make_user, sh, monkeypatch):
    product = stocked_product(stock={sh: 10})
    for _ in range(2):
        approved_order(lines=[(product, 1)])
    monkeypatch.setattr(bulk, "BATCH", 1)
    run, _started = bulk_allocation_start(by=make_user("warehouse"))
    assert bulk_allocation_step(run_id=run.pk, token="first")
    BulkAllocation.objects.filter(pk=run.pk).update(lease_token="second")  # another took it over meanwhile
    assert not bulk_allocation_step(run_id=run.pk, token="first")
    run.refresh_from_db()
    assert (run.done, run.allocated) == (1, 1)


def test_beat_resumes_a_run_whose_worker_died(make_user, sh):
    product = stocked_product(stock={sh: 10})
    order = approved_order(lines=[(product, 1)])
    run, _started = bulk_allocation_start(by=make_user("warehouse"))
    assert not bulk_allocation_stale(run)  # just started: its message is on the way
    BulkAllocation.objects.filter(pk=run.pk).update(started_at=timezone.now() - bulk.LEASE - timedelta(seconds=1))
    assert tasks.resume_bulk_allocations() == 1  # eager: resumed here
    run.refresh_from_db()
    assert not run.running and statuses([order]) == [OrderStatus.ALLOCATED]
    assert tasks.resume_bulk_allocations() == 0

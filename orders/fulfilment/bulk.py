"""Allocate every waiting order in the background, in batches, with a progress row the page polls.

One run at a time: the database refuses a second running row, so a second click (or a second
web worker) gets the running one. The task may run twice at once (a redelivered message, a resumed
run): the worker holding the run's lease works through it, the other stops; a batch is counted
only by the worker that advanced `done` from where it read it, and allocating an order twice
changes nothing, so nothing is done or counted twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from orders.models import OrderStatus, SalesOrder

from .models import BulkAllocation
from .services import WAITING_FOR_STOCK, order_allocate, waiting_orders

logger = logging.getLogger(__name__)

BATCH = 50
# A worker keeps the run this long per batch; a run whose lease ran out (its worker died) is resumed.
LEASE = timedelta(minutes=2)
FAILED_KEPT = 100


def bulk_allocation_start(*, by) -> tuple[BulkAllocation, bool]:
    """Start allocating every waiting order, oldest approval first; returns (run, started). When a
    run is going already, that one is returned and nothing new starts."""
    actor = Actor.of(by)
    if not actor.has_perm("orders.allocate_salesorder"):
        raise PermissionRefused(_("You are not allowed to allocate orders."))
    running = BulkAllocation.objects.filter(running=True).first()
    if running is not None:
        return running, False
    ids = list(waiting_orders().values_list("pk", flat=True))
    try:
        with transaction.atomic():
            run = BulkAllocation.objects.create(
                started_by=actor.user_or_none,
                order_ids=ids,
                total=len(ids),
                running=bool(ids),
                finished_at=None if ids else timezone.now(),
            )
    except IntegrityError:  # another request started one a moment ago
        return BulkAllocation.objects.get(running=True), False
    return run, True


def bulk_allocation_stale(run: BulkAllocation, *, now=None) -> bool:
    """A running run nobody works on: its worker died, or the message that would start it was lost."""
    now = now or timezone.now()
    if not run.running:
        return False
    if run.lease_until is None:
        return run.started_at < now - LEASE
    return run.lease_until < now


def _actor(run: BulkAllocation) -> Actor:
    user = run.started_by
    if user is not None and user.is_active and user.has_perm("orders.allocate_salesorder"):
        return Actor.of(user)
    return Actor.system("allocation")


def bulk_allocation_step(*, run_id: int, token: str) -> bool:
    """Allocate the run's next batch if this worker holds (or can take) its lease; False when the
    run is finished or another worker has it."""
    now = timezone.now()
    claimed = (
        BulkAllocation.objects.filter(pk=run_id, running=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_token=token))
        .update(lease_until=now + LEASE, lease_token=token)
    )
    if not claimed:
        return False
    run = BulkAllocation.objects.select_related("started_by").get(pk=run_id)
    batch = run.order_ids[run.done : run.done + BATCH]
    actor = _actor(run)
    orders = SalesOrder.objects.in_bulk(batch)
    allocated = backordered = 0
    failed: list[str] = []
    for order_id in batch:
        order = orders.get(order_id)
        if order is None or order.status not in WAITING_FOR_STOCK:
            continue  # allocated, cancelled or deleted since the run started
        try:
            result = order_allocate(order=order, by=actor)
        except DomainError as error:
            failed.append(order.number)
            logger.warning("bulk allocation %s: order %s: %s", run_id, order.number, error)
            continue
        if result.status == OrderStatus.ALLOCATED:
            allocated += 1
        elif result.status == OrderStatus.BACKORDERED:
            backordered += 1
    done = run.done + len(batch)
    finished = done >= run.total
    changes = {
        "done": done,
        "allocated": F("allocated") + allocated,
        "backordered": F("backordered") + backordered,
        "failed": F("failed") + len(failed),
        "failed_orders": (run.failed_orders + failed)[:FAILED_KEPT],
    }
    if finished:
        changes.update(running=False, finished_at=timezone.now(), lease_until=None, lease_token="")
    # Counted once: only by the worker that moves `done` on from where it read it.
    counted = BulkAllocation.objects.filter(pk=run_id, lease_token=token, done=run.done).update(**changes)
    return bool(counted) and not finished


def bulk_allocation_work(run_id: int) -> None:
    """Work through the run batch by batch until it is finished or another worker holds it."""
    token = uuid.uuid4().hex
    while bulk_allocation_step(run_id=run_id, token=token):
        pass


def bulk_allocation_shown() -> BulkAllocation | None:
    """The run the allocation page shows: the one running, else the latest."""
    return BulkAllocation.objects.select_related("started_by").order_by("-running", "-pk").first()

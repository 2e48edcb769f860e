from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(name="config.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat(worker: str | None = None) -> None:
    """Record that a worker is alive; safe to run any number of times."""
    WorkerHeartbeat.objects.update_or_create(worker=worker or socket.gethostname(), defaults={"last_seen": timezone.now()})


@shared_task(name="config.tasks.dispatch_outbox", ignore_result=True)
def dispatch_outbox() -> None:
    """Carry out the outbox's due events; beat runs it every few seconds, commits ask for it at once."""
    from .outbox import outbox_dispatch

    outbox_dispatch()

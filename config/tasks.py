from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat
from .outbox import dispatch_outbox  # noqa: F401  (registered under config.tasks for beat)


@shared_task(name="config.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat(worker: str | None = None) -> None:
    """Record that a worker is alive; safe to run any number of times."""
    WorkerHeartbeat.objects.update_or_create(worker=worker or socket.gethostname(), defaults={"last_seen": timezone.now()})

"""A real Celery worker against Redis runs a real task that writes to the test database."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings

from config.models import WorkerHeartbeat
from tests.workers import Worker, database_url, require_redis_and_postgres, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url():
    return require_redis_and_postgres()


def test_real_worker_runs_the_heartbeat_task(redis_url, tmp_path):
    from config.celery import app
    from config.tasks import worker_heartbeat

    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker_name = f"ci-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url, "TESTING": "1"}
    worker = Worker(name=worker_name, queue=queue, env=env, log=tmp_path / "worker.log", pool="solo")
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    try:
        worker_heartbeat.apply_async(args=[worker_name], queue=queue)
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(worker=worker_name).exists(), seconds=60, worker=worker)
    finally:
        app.conf.task_always_eager = True
        worker.stop()
    assert seen, f"the worker never ran the task; its log:\n{worker.output()}"
    assert settings.CELERY_BROKER_URL.startswith("redis://")

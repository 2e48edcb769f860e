"""A real Celery worker against Redis runs a real task that writes to the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from config.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url or connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_FULL_STACK"):
            pytest.fail("the worker test needs REDIS_URL and PostgreSQL")
        pytest.skip("needs REDIS_URL and PostgreSQL")
    return url


def test_real_worker_runs_the_heartbeat_task(redis_url):
    from config.celery import app
    from config.tasks import worker_heartbeat

    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker_name = f"ci-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": redis_url, "TESTING": "1"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"{worker_name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    try:
        worker_heartbeat.apply_async(args=[worker_name], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if WorkerHeartbeat.objects.filter(worker=worker_name).exists():
                break
            if worker.poll() is not None:
                break
            time.sleep(0.5)
        seen = WorkerHeartbeat.objects.filter(worker=worker_name).exists()
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert seen, f"the worker never ran the task; its log:\n{output[-3000:]}"
    assert settings.CELERY_BROKER_URL.startswith("redis://")

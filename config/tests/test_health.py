from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from config.models import WorkerHeartbeat
from config.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["worker_heartbeat"] is None


def test_healthz_reports_the_last_heartbeat(client, settings):
    worker_heartbeat("worker-a")
    body = client.get(reverse("healthz")).json()
    assert body["worker_heartbeat"] == WorkerHeartbeat.objects.get(worker="worker-a").last_seen.isoformat()
    assert body["worker_heartbeat_age_seconds"] <= 1


def test_heartbeat_twice_keeps_one_row_per_worker():
    worker_heartbeat("worker-a")
    first = WorkerHeartbeat.objects.get(worker="worker-a").last_seen
    worker_heartbeat("worker-a")
    assert WorkerHeartbeat.objects.filter(worker="worker-a").count() == 1
    assert WorkerHeartbeat.objects.get(worker="worker-a").last_seen >= first


def test_stale_heartbeat_makes_status_degraded(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    WorkerHeartbeat.objects.create(worker="old", last_seen=timezone.now() - timedelta(hours=1))
    with mock.patch("config.views._broker_status", return_value="ok"):
        body = client.get(reverse("healthz")).json()
    assert body["status"] == "degraded"


def test_healthz_is_503_when_the_database_is_down(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")
    assert response.json()["status"] == "down"

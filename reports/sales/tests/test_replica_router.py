"""Reports can read from a replica: DATABASE_REPLICA_URL adds the "replica" database and the router
sends the reports app's reads there; writes, other apps and migrations stay on the primary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.database_routers import ReplicaRouter
from orders.models import SalesOrder
from reports.sales.models import DailySalesLine

ROOT = Path(__file__).resolve().parents[3]


def test_with_a_replica_the_reports_reads_go_there_and_nothing_else_does(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.setitem(settings.DATABASES, "replica", {"ENGINE": "django.db.backends.postgresql"})
    assert router.db_for_read(DailySalesLine) == "replica"
    assert router.db_for_read(SalesOrder) is None  # the primary
    assert router.db_for_write(DailySalesLine) is None
    assert router.allow_migrate("replica", "reports") is False
    assert router.allow_migrate("default", "reports") is None


def test_without_a_replica_everything_reads_from_the_primary():
    assert "replica" not in settings.DATABASES  # the tests run without DATABASE_REPLICA_URL
    assert ReplicaRouter().db_for_read(DailySalesLine) is None
    assert DailySalesLine.objects.all().db == "default"


def test_the_setting_adds_a_replica_that_tests_mirror_to_the_primary():
    code = (
        "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.DATABASES['replica']))"
    )
    env = {
        **os.environ,
        "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5433/sales",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    replica = json.loads(result.stdout.strip().splitlines()[-1])
    assert (replica["HOST"], replica["PORT"], replica["NAME"], replica["USER"]) == ("replica.example", 5433, "sales", "reader")
    assert replica["TEST"]["MIRROR"] == "default"

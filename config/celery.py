"""The Celery app: Redis broker from REDIS_URL, eager tasks in the embedded default."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages with tasks of their own (autodiscovery looks only at each app's tasks module).
app.autodiscover_tasks(
    [
        "orders.fulfilment",
        "billing.payments",
        "billing.bank",
        "billing.dunning",
        "billing.statements",
        "logistics.exceptions",
        "reports.customers",
        "reports.cycles",
        "reports.nightly",
        "reports.receivables",
        "reports.sales",
        "reports.stock",
    ]
)

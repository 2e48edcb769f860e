"""Settings of the workers the kill tests start (never used elsewhere): the submitted order's checks
go through a slowed handler so the test can kill the worker mid-task, and every task the worker
sends (its own outbox kicks, beat's schedule) goes to the test's private queue."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import OUTBOX_HANDLERS

OUTBOX_HANDLERS = {**OUTBOX_HANDLERS, "orders.salesorder.submit": ["tests.worker_hooks.slow_run_checks"]}
CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_WORKER_QUEUE"]

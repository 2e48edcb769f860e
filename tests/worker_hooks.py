"""A slowed outbox handler for the kill tests: the first call writes its process id to the marker
file and sleeps (the test kills it there); every later call runs the real checks at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

from orders.review.handlers import run_checks


def slow_run_checks(payload: dict) -> None:
    """The submit handler, held up on its first call so the worker can be killed mid-task."""
    marker = Path(os.environ["TEST_WORKER_MARKER"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("TEST_WORKER_SLEEP", "120")))
    run_checks(payload)

"""A web worker freezes what it loaded (config/startup.py), so the collector's full collections skip it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_worker_leaves_its_loaded_objects_out_of_the_collectors_walks():
    probe = (
        "import gc, config.wsgi; "
        "from django.urls import reverse; reverse('orders:list'); "  # every view module is loaded already
        "print(gc.get_freeze_count(), len(gc.get_objects()))"
    )
    environment = {**os.environ, "DATABASE_URL": ""}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    frozen, walked = (int(n) for n in done.stdout.split()[-2:])
    assert frozen > 50_000, done.stdout  # modules, classes, the URLconf, model metadata
    assert walked < frozen / 2, done.stdout  # what a full collection still walks

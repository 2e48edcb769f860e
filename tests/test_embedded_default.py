"""`make run`'s embedded default works: SQLite, no Redis, migrate + seed_demo, then every menu page as every role.

The rest of the suite runs on PostgreSQL; this is the one test of the path a first-time user takes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, env, timeout=900):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_migrate_seed_demo_and_every_menu_page_on_sqlite(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "TESTING")}
    env.update(VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_SETTINGS_MODULE="config.settings")
    for step in (["manage.py", "migrate", "--noinput", "-v", "0"], ["manage.py", "seed_demo"]):
        done = _run(step, env)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert (tmp_path / "db.sqlite3").exists()
    done = _run(["tests/embedded_pages.py"], env)
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-3000:]}"
    assert "checked" in done.stdout and "FAILED" not in done.stdout

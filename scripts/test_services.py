"""The services `make test` runs with: DATABASE_URL and REDIS_URL from the environment, else the
local PostgreSQL and Redis when they answer on their ports, else (PostgreSQL only) a throwaway
server from a pip-installed wheel (scripts/throwaway_postgres.py). Without Redis the tests that
start a real worker are skipped, with the reason.

    python scripts/test_services.py                    # print the assignments found (as before)
    python scripts/test_services.py -- pytest -x ...   # run the command with them

TEST_POSTGRES_PORT / TEST_REDIS_PORT change the local ports probed (5432 / 6379)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import throwaway_postgres  # noqa: E402

POSTGRES_PORT = int(os.environ.get("TEST_POSTGRES_PORT") or 5432)
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT") or 6379)


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def found() -> dict[str, str]:
    """The variables to set: only those the environment lacks and a local service provides."""
    assignments = {}
    if not os.environ.get("DATABASE_URL") and answers("127.0.0.1", POSTGRES_PORT):
        assignments["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{POSTGRES_PORT}/sales_orders"
    if not os.environ.get("REDIS_URL") and answers("127.0.0.1", REDIS_PORT):
        assignments["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
    return assignments


def main(command: list[str]) -> int:
    env = {**os.environ, **found()}
    if not env.get("REDIS_URL"):
        print(f"No Redis on 127.0.0.1:{REDIS_PORT} and no REDIS_URL: the real-worker tests are skipped.", file=sys.stderr)
    if env.get("DATABASE_URL"):
        return subprocess.call(command, env=env)
    print(
        f"No PostgreSQL on 127.0.0.1:{POSTGRES_PORT} and no DATABASE_URL: the tests run on a throwaway server.",
        file=sys.stderr,
    )
    return throwaway_postgres.run(command, env)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if arguments:
        sys.exit(main(arguments))
    print(" ".join(f"{name}={value}" for name, value in found().items()))

"""Print the environment `make test` runs with: DATABASE_URL and REDIS_URL from the environment,
else the local PostgreSQL and Redis when they answer on their standard ports."""

from __future__ import annotations

import os
import socket


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


assignments = []
if not os.environ.get("DATABASE_URL") and answers("127.0.0.1", 5432):
    assignments.append("DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_orders")
if not os.environ.get("REDIS_URL") and answers("127.0.0.1", 6379):
    assignments.append("REDIS_URL=redis://127.0.0.1:6379/0")
print(" ".join(assignments))

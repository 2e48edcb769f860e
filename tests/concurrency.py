"""Helpers for tests that use real concurrent connections to PostgreSQL."""

from __future__ import annotations

import threading

from django.db import connection


def run_together(jobs) -> list[BaseException]:
    """Start every job at the same moment (a barrier), each in a thread with its own connection;
    return the errors they raised, so the test can inspect every failure."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job):
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as error:  # noqa: BLE001 - the test inspects every failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hangs"
    return errors

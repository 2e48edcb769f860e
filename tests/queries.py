"""Query-count helpers: list and detail pages must not issue more queries as rows grow."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext


@contextmanager
def count_queries():
    """with count_queries() as q: ...; len(q) is the number of SQL statements."""
    with CaptureQueriesContext(connection) as context:
        yield context


def queries_for(fn) -> int:
    with count_queries() as q:
        fn()
    return len(q.captured_queries)


def assert_constant_queries(make_rows, action, sizes=(1, 10)) -> list[int]:
    """Run `action` after `make_rows(n)` for each n; every run must issue the same number of queries."""
    counts = []
    for n in sizes:
        make_rows(n)
        counts.append(queries_for(action))
    assert len(set(counts)) == 1, f"query count grows with rows: {dict(zip(sizes, counts, strict=True))}"
    return counts

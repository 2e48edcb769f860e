"""Paging for lists that may hold millions of rows: the count stops at a cap instead of scanning all.

An exact COUNT over a filtered million-row table costs more than the page itself; past the cap
the page says "10,000+ rows" (as Frappe and Odoo do) and the user narrows the filters instead
of paging to the end.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A Paginator whose count reads at most `cap` + 1 rows (one bounded subquery)."""

    cap = COUNT_CAP

    @cached_property
    def _bounded_count(self) -> int:
        if not hasattr(self.object_list, "order_by"):  # a list already in memory: its length costs nothing
            return len(self.object_list)
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        """True when there are more rows than the count shows."""
        return self._bounded_count > self.cap

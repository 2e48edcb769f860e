"""Demo data for the stock and receivables reports: their snapshots built from what the other demo
seeders left (the nightly run would otherwise build them after midnight). Running it again rebuilds."""

from __future__ import annotations

from reports.receivables.snapshot import receivables_rebuild

from .snapshot import stock_snapshot_nightly


def seed(*, users, stdout=None) -> None:
    stock_snapshot_nightly()
    receivables_rebuild()
    if stdout is not None:
        stdout.write("Reports: sales, customer, order cycle, stock and receivables snapshots built.\n")

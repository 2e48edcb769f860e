"""Demo data for the stock and receivables reports: their snapshots built from what the other demo
seeders left (the nightly run would otherwise build them after midnight). Running it again rebuilds."""

from __future__ import annotations

from reports.receivables.snapshot import receivables_rebuild

from .snapshot import stock_snapshot_nightly


def seed(*, users, stdout=None) -> None:
    outcome = stock_snapshot_nightly()
    days = receivables_rebuild()
    if stdout is not None:
        stdout.write(f"reports: stock snapshot {outcome}, receivables snapshot of {days} days\n")

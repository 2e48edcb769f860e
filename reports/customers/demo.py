"""Demo data: the customer snapshot built from the demo orders, so the reports and customer pages show segments."""

from __future__ import annotations

from .snapshot import customer_snapshot_rebuild


def seed(*, users, stdout=None) -> None:
    """Rebuild the customer snapshot over whatever the other seeders made (safe to run twice)."""
    customer_snapshot_rebuild()  # reports.stock's seeder, the last, says the snapshots are built

"""Demo data: the sales facts built from the demo orders, shipments and returns (after every other seeder)."""

from __future__ import annotations

from .facts import sales_facts_rebuild


def seed(*, users, stdout=None) -> None:
    """Rebuild the sales facts from what the other seeders made (running it again gives the same rows)."""
    sales_facts_rebuild()  # reports.stock's seeder, the last, says the snapshots are built

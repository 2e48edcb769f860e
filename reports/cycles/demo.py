"""Demo data of the cycle reports: the snapshot built from the demo orders (the events of the other seeders
refreshed it order by order already; a full rebuild makes it as the nightly run would). Safe to run again."""

from __future__ import annotations

from .refresh import cycles_rebuild


def seed(*, users, stdout) -> None:
    cycles_rebuild()  # reports.stock's seeder, the last, says the snapshots are built

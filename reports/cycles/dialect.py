"""The few SQL expressions PostgreSQL and SQLite spell differently, for the cycle snapshot's SQL.

Everything else in reports.cycles.refresh is SQL both run. Local dates follow settings.TIME_ZONE: on
PostgreSQL exactly (AT TIME ZONE), on SQLite (development only) at the zone's current UTC offset.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Dialect:
    vendor: str
    time_zone: str

    @classmethod
    def current(cls) -> Dialect:
        zone = str(zoneinfo.ZoneInfo(settings.TIME_ZONE))  # refuses a name that is not a time zone
        return cls(vendor=connection.vendor, time_zone=zone)

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def local_date(self, column: str) -> str:
        """The calendar day (in TIME_ZONE) of a timestamp column."""
        if self.postgres:
            return f"CAST(({column}) AT TIME ZONE '{self.time_zone}' AS date)"
        offset = int(datetime.now(zoneinfo.ZoneInfo(self.time_zone)).utcoffset().total_seconds())
        return f"date({column}, '{offset:+d} seconds')"

    def week_of_timestamp(self, column: str) -> str:
        """The Monday of the local week a timestamp falls in."""
        if self.postgres:
            return f"CAST(date_trunc('week', ({column}) AT TIME ZONE '{self.time_zone}') AS date)"
        offset = int(datetime.now(zoneinfo.ZoneInfo(self.time_zone)).utcoffset().total_seconds())
        return f"date({column}, '{offset:+d} seconds', '-6 days', 'weekday 1')"

    def week_of_date(self, column: str) -> str:
        """The Monday of the week a date falls in."""
        if self.postgres:
            return f"CAST(date_trunc('week', CAST({column} AS timestamp)) AS date)"
        return f"date({column}, '-6 days', 'weekday 1')"

    def seconds_between(self, start: str, end: str) -> str:
        """Whole seconds from one timestamp to another."""
        if self.postgres:
            return f"CAST(EXTRACT(EPOCH FROM ({end}) - ({start})) AS bigint)"
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"

    def json_text(self, column: str, key: str) -> str:
        """A top-level key of a JSON column, as text."""
        if self.postgres:
            return f"({column} ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

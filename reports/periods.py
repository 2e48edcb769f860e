"""Periods of a report: the buckets (day, week, month, year) its figures are grouped in, and comparisons."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models.functions import TruncDay, TruncMonth, TruncWeek, TruncYear
from django.utils.translation import gettext_lazy as _

GRAINS = [("day", _("Day")), ("week", _("Week")), ("month", _("Month")), ("year", _("Year"))]
COMPARISONS = [("none", _("No comparison")), ("previous", _("Previous period")), ("last_year", _("Same period last year"))]
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


def bucket_start(day: date, grain: str) -> date:
    """The first day of the bucket holding `day` (weeks start on Monday, ISO 8601)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def next_bucket(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    if grain == "year":
        return start.replace(year=start.year + 1)
    return start + timedelta(days=1)


def buckets(start: date, end: date, grain: str) -> list[date]:
    """Every bucket from the one holding `start` to the one holding `end`, empty ones included (a chart shows gaps as 0)."""
    keys, key = [], bucket_start(start, grain)
    while key <= end:
        keys.append(key)
        key = next_bucket(key, grain)
    return keys


def bucket_label(key: date, grain: str) -> str:
    """How a bucket is named on a chart's axis and in a table: 2026-11-30, 2026-W48, 2026-11, 2026."""
    if grain == "week":
        year, week, _weekday = key.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{key:%Y-%m}"
    if grain == "year":
        return f"{key:%Y}"
    return key.isoformat()


def trunc(field: str, grain: str):
    """The database expression grouping a date column into `grain` buckets (PostgreSQL and SQLite alike)."""
    return TRUNC[grain](field)


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison_period(start: date, end: date, compare: str) -> tuple[date, date] | None:
    """The period to compare with: the same number of days just before, or the same dates a year earlier."""
    if compare == "previous":
        length = end - start
        return start - length - timedelta(days=1), start - timedelta(days=1)
    if compare == "last_year":
        return year_earlier(start), year_earlier(end)
    return None


def change(current, previous):
    """The relative change from `previous` to `current` (0.125 = +12.5 %); None when there is nothing to compare with."""
    if previous in (None, 0) or current is None:
        return None
    return (current - previous) / abs(previous)

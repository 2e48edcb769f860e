"""Reads of the daily receivables snapshot for the receivables report and the dashboards.

Levels (open, overdue, per bucket) are read at each bucket's last day (the latest row on or before
it); flows (invoiced, credited, collected) are summed over the bucket's days. DSO of a bucket is
open receivables at its end ÷ invoiced in it × its days.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from billing.ageing import ageing_buckets
from billing.payments.models import PaymentMethod
from config.money import ZERO
from reports.periods import bucket_label, buckets, next_bucket
from reports.snapshots import snapshot_as_of

from .models import CollectionDay, ReceivablesDay
from .snapshot import SNAPSHOT, local_today

# DSO on the dashboards: over the last this many days.
DSO_DAYS = 90


def receivables_as_of():
    return snapshot_as_of(SNAPSHOT)


def _dso(open_total: Decimal, invoiced: Decimal, days: int) -> Decimal | None:
    if not invoiced or invoiced <= 0:
        return None
    return (open_total / invoiced * days).quantize(Decimal("0.1"))


def _level(row) -> dict:
    if row is None:
        return {"open_total": ZERO, "overdue_total": ZERO, "buckets": {b.key: ZERO for b in ageing_buckets()}}
    return {
        "open_total": row.open_total,
        "overdue_total": row.overdue_total,
        "buckets": {b.key: Decimal(row.buckets.get(b.key, "0")) for b in ageing_buckets()},
    }


def receivables_series(*, start: date, end: date, grain: str) -> list[dict]:
    """Per bucket of the period (up to today): open, overdue and each ageing bucket at its last day;
    invoiced, credited and collected within it; DSO and the overdue share. Two queries."""
    today = local_today()
    keys = buckets(start, end, grain)
    last = min(end, today)
    rows = list(ReceivablesDay.objects.filter(day__gte=start, day__lte=last).order_by("day"))
    before = ReceivablesDay.objects.filter(day__lt=start).order_by("-day").first()
    result = []
    index, current = 0, before
    for key in keys:
        first_day = max(key, start)
        last_day = min(next_bucket(key, grain) - timedelta(days=1), end)
        if first_day > today:
            break
        last_day = min(last_day, today)
        invoiced = credited = collected = ZERO
        while index < len(rows) and rows[index].day <= last_day:
            current = rows[index]
            invoiced += current.invoiced
            credited += current.credited
            collected += current.collected
            index += 1
        level = _level(current)
        days = (last_day - first_day).days + 1
        result.append(
            {
                "bucket": key,
                "label": bucket_label(key, grain),
                "last_day": last_day,
                **level,
                "invoiced": invoiced,
                "credited": credited,
                "collected": collected,
                "dso": _dso(level["open_total"], invoiced, days),
                "overdue_share": (level["overdue_total"] / level["open_total"]).quantize(Decimal("0.0001"))
                if level["open_total"]
                else None,
            }
        )
    return result


def collections_by_method(*, start: date, end: date, grain: str) -> dict:
    """Per bucket of the period, money received by each payment method: {"labels", "methods", "rows"}."""
    keys = buckets(start, end, grain)
    amounts: dict[date, dict[str, Decimal]] = {key: {} for key in keys}
    counts: dict[date, int] = {key: 0 for key in keys}
    per_day = (
        CollectionDay.objects.filter(day__gte=start, day__lte=end)
        .values("day", "method")
        .annotate(total=Sum("amount"), payments=Sum("payments"))
        .order_by("day")
    )
    ordered = list(keys)
    position = 0
    for entry in per_day:
        while position + 1 < len(ordered) and entry["day"] >= ordered[position + 1]:
            position += 1
        key = ordered[position]
        amounts[key][entry["method"]] = amounts[key].get(entry["method"], ZERO) + entry["total"]
        counts[key] += entry["payments"]
    used = {method for per in amounts.values() for method in per}
    methods = [(value, label) for value, label in PaymentMethod.choices if value in used]
    methods += [(value, value) for value in sorted(used - set(PaymentMethod.values))]
    rows = [
        {
            "bucket": key,
            "label": bucket_label(key, grain),
            "amounts": {method: amounts[key].get(method, ZERO) for method, _label in methods},
            "total": sum(amounts[key].values(), ZERO),
            "payments": counts[key],
        }
        for key in keys
    ]
    return {"labels": [row["label"] for row in rows], "methods": methods, "rows": rows}


def receivables_figures(*, day: date | None = None) -> dict:
    """For the dashboards: open and overdue receivables at the end of `day` (today), the overdue share,
    and DSO over the last 90 days, with the snapshot's "as of"."""
    day = day or local_today()
    row = ReceivablesDay.objects.filter(day__lte=day).order_by("-day").first()
    level = _level(row)
    since = day - timedelta(days=DSO_DAYS - 1)
    invoiced = ReceivablesDay.objects.filter(day__gte=since, day__lte=day).aggregate(total=Sum("invoiced"))["total"] or ZERO
    return {
        "open_total": level["open_total"],
        "overdue_total": level["overdue_total"],
        "overdue_share": (level["overdue_total"] / level["open_total"]).quantize(Decimal("0.0001"))
        if level["open_total"]
        else None,
        "dso": _dso(level["open_total"], invoiced, DSO_DAYS),
        "as_of": receivables_as_of(),
    }

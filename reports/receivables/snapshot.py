"""Building the daily receivables snapshot (reports.receivables.models) from billing.

- Today's row: billing's own ageing (billing.ageing.ageing_totals, one aggregate over the open
  invoices) and today's flows; refreshed after billing events and every few minutes.
- `receivables_rebuild`: every day's row from the first invoice on. What was open on a past day is
  worked back from today's open amounts and the dated changes since (payments allocated and undone,
  write-offs and their undoing, credit notes), grouped by due date in a few aggregate queries; the
  day-by-day ageing is then a walk over a few hundred due dates per day, never over invoices.
- Collections per day and method: one GROUP BY over the payments not voided.

All writers hold the lock of the snapshot's state row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from billing.ageing import ageing_buckets, ageing_totals
from billing.models import CreditNote, CreditNoteStatus, Invoice, InvoiceStatus
from billing.payments.models import Payment, PaymentAllocation, PaymentRecordState, WriteOff
from config.money import ZERO
from reports.models import SnapshotState
from reports.snapshots import snapshot_touch

from .models import CollectionDay, ReceivablesDay

SNAPSHOT = "receivables"
MONEY = DecimalField(max_digits=16, decimal_places=2)


def _lock() -> SnapshotState:
    SnapshotState.objects.bulk_create([SnapshotState(name=SNAPSHOT)], ignore_conflicts=True)
    return SnapshotState.objects.select_for_update().get(name=SNAPSHOT)


def local_today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _local_date(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)


def _money(value) -> Decimal:
    return (value if value is not None else ZERO).quantize(Decimal("0.01"))


def _bucket_json(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {key: str(_money(amount)) for key, amount in amounts.items()}


# --- collections ----------------------------------------------------------------------------------


def _collections(*, day: date | None = None):
    payments = Payment.objects.filter(state=PaymentRecordState.RECORDED)
    if day is not None:
        payments = payments.filter(date=day)
    return payments.values("date", "method").annotate(total=Sum("amount"), count=Count("id")).order_by()


def _write_collections(rows, *, day: date | None = None) -> dict[date, Decimal]:
    """Replace the collection rows (of one day, or all) by these; the total collected per day."""
    stale = CollectionDay.objects.all() if day is None else CollectionDay.objects.filter(day=day)
    stale.delete()
    per_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    objects = []
    for row in rows:
        objects.append(CollectionDay(day=row["date"], method=row["method"], amount=row["total"], payments=row["count"]))
        per_day[row["date"]] += row["total"]
    CollectionDay.objects.bulk_create(objects)
    return per_day


# --- one day, from billing as it is now ------------------------------------------------------------


def _flows_of(day: date) -> dict[str, Decimal]:
    start, end = _day_bounds(day)
    invoiced = Invoice.objects.filter(status=InvoiceStatus.ISSUED, issued_at__gte=start, issued_at__lt=end).aggregate(
        total=Coalesce(Sum("total_gross"), Value(ZERO), output_field=MONEY)
    )["total"]
    credited = CreditNote.objects.filter(status=CreditNoteStatus.ISSUED, issued_at__gte=start, issued_at__lt=end).aggregate(
        total=Coalesce(Sum("total_gross"), Value(ZERO), output_field=MONEY)
    )["total"]
    return {"invoiced": invoiced, "credited": credited}


def _refresh_today_locked(*, ageing: bool = True) -> bool:
    """Today's flows, and (when `ageing`, or when today has no row yet) its open amounts from billing's
    ageing; whether the open amounts were read."""
    today = local_today()
    values = {"collected": _write_collections(_collections(day=today), day=today).get(today, ZERO), **_flows_of(today)}
    ageing = ageing or not ReceivablesDay.objects.filter(day=today).exists()
    if ageing:
        totals = ageing_totals(as_of=today)
        values.update(
            open_total=_money(totals["total"]),
            overdue_total=_money(totals["overdue"]),
            buckets=_bucket_json({bucket.key: totals[bucket.key] for bucket in ageing_buckets()}),
        )
    ReceivablesDay.objects.update_or_create(day=today, defaults=values)
    return ageing


def ageing_seconds() -> int:
    return getattr(settings, "REPORTS_RECEIVABLES_AGEING_SECONDS", 60)


@transaction.atomic
def receivables_refresh(*, payment_days: list[date] | None = None, force: bool = True) -> ReceivablesDay:
    """Today's flows and open amounts, and the collections of other days named (a payment recorded or
    voided with an earlier date). Without `force` (after each billing event) the open amounts, one
    aggregate over every open invoice, are read at most once a minute (REPORTS_RECEIVABLES_AGEING_SECONDS):
    a bank statement paying thousands of invoices does not read them thousands of times; the
    scheduled refresh catches up."""
    state = _lock()
    today = local_today()
    for day in sorted(set(payment_days or [])):
        if day == today:
            continue
        collected = _write_collections(_collections(day=day), day=day).get(day, ZERO)
        ReceivablesDay.objects.filter(day=day).update(collected=collected)
    due = force or state.refreshed_at is None or timezone.now() - state.refreshed_at >= timedelta(seconds=ageing_seconds())
    if _refresh_today_locked(ageing=due):
        snapshot_touch(SNAPSHOT)
    return ReceivablesDay.objects.get(day=today)


# --- every day, worked back from today ---------------------------------------------------------------


def _changes_by_due_and_day() -> tuple[dict, dict, dict]:
    """What changed open amounts, grouped by the invoice's due date, its issue day and the day of the change.

    Returns (issued, reductions, credited_per_day): issued[(due, issue_day)] = [gross, open now];
    reductions = list of (due, issue_day, day, amount) (a reduction of the open amount; negative when undone);
    credited_per_day[day] = credit notes issued that day.
    """
    issued: dict[tuple, list[Decimal]] = {}
    for row in (
        Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        .annotate(issue_day=_local_date("issued_at"))
        .values("due_date", "issue_day")
        .annotate(
            gross=Sum("total_gross"),
            open_now=Sum(F("total_gross") - F("amount_credited") - F("amount_paid"), output_field=MONEY),
        )
        .order_by()
    ):
        issued[(row["due_date"], row["issue_day"])] = [row["gross"], row["open_now"]]
    reductions: list[tuple] = []
    credited_per_day: dict[date, Decimal] = defaultdict(lambda: ZERO)

    def grouped(queryset, when: str, sign: int, *, kind: str = ""):
        for row in (
            queryset.annotate(due=F("invoice__due_date"), issue_day=_local_date("invoice__issued_at"), day=_local_date(when))
            .values("due", "issue_day", "day")
            .annotate(amount=Sum("amount" if kind != "credit" else "total_gross"))
            .order_by()
        ):
            reductions.append((row["due"], row["issue_day"], row["day"], sign * row["amount"]))
            if kind == "credit":
                credited_per_day[row["day"]] += row["amount"]

    issued_invoices = {"invoice__status": InvoiceStatus.ISSUED}
    allocations = PaymentAllocation.objects.filter(**issued_invoices)
    grouped(allocations, "created_at", 1)
    grouped(allocations.filter(reversed_at__isnull=False), "reversed_at", -1)
    write_offs = WriteOff.objects.filter(invoice__isnull=False, **issued_invoices)
    grouped(write_offs, "created_at", 1)
    grouped(write_offs.filter(reversed_at__isnull=False), "reversed_at", -1)
    grouped(CreditNote.objects.filter(status=CreditNoteStatus.ISSUED, **issued_invoices), "issued_at", 1, kind="credit")
    return issued, reductions, credited_per_day


def receivables_history() -> list[dict]:
    """Every day's open amounts per ageing bucket from the first invoice to today, worked back from today's."""
    today = local_today()
    issued, reductions, credited_per_day = _changes_by_due_and_day()
    change: dict[date, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))  # day -> due -> change of open
    invoiced_per_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for (due, issue_day), (gross, open_now) in issued.items():
        change[issue_day][due] += open_now
        invoiced_per_day[issue_day] += gross
    for due, issue_day, day, amount in reductions:
        # Open at issue = open now + every reduction since; each reduction then takes its part on its day.
        change[issue_day][due] += amount
        change[max(day, issue_day)][due] -= amount
    if not change:
        return []
    buckets = ageing_buckets()
    open_by_due: dict[date | None, Decimal] = defaultdict(lambda: ZERO)
    history = []
    day = min(change)
    while day <= today:
        for due, amount in change.get(day, {}).items():
            open_by_due[due] += amount
            if open_by_due[due] == 0:
                del open_by_due[due]
        per_bucket = {bucket.key: ZERO for bucket in buckets}
        overdue = ZERO
        for due, amount in open_by_due.items():
            days_overdue = (day - due).days if due is not None else 0
            for bucket in buckets:
                if bucket.holds(days_overdue):
                    per_bucket[bucket.key] += amount
                    break
            if days_overdue > 0:
                overdue += amount
        history.append(
            {
                "day": day,
                "open_total": sum(per_bucket.values(), ZERO),
                "overdue_total": overdue,
                "buckets": per_bucket,
                "invoiced": invoiced_per_day.get(day, ZERO),
                "credited": credited_per_day.get(day, ZERO),
            }
        )
        day += timedelta(days=1)
    return history


@transaction.atomic
def receivables_rebuild() -> int:
    """Every day's row and the collections, from billing, in full; how many days."""
    _lock()
    collected = _write_collections(_collections())
    history = receivables_history()
    ReceivablesDay.objects.all().delete()
    ReceivablesDay.objects.bulk_create(
        [
            ReceivablesDay(
                day=entry["day"],
                open_total=_money(entry["open_total"]),
                overdue_total=_money(entry["overdue_total"]),
                buckets=_bucket_json(entry["buckets"]),
                invoiced=_money(entry["invoiced"]),
                credited=_money(entry["credited"]),
                collected=_money(collected.get(entry["day"], ZERO)),
            )
            for entry in history
        ],
        batch_size=1000,
    )
    # Today's row from billing's own ageing, as the incremental refresh writes it.
    _refresh_today_locked()
    snapshot_touch(SNAPSHOT, rebuilt=True)
    return len(history)

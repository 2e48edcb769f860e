"""Receivables ageing (应收账款账龄): what customers owe, by how long it is past its due date.

The buckets come from settings.AR_AGEING_BUCKETS, the last day of each overdue bucket (default
30, 60, 90: current, 1–30, 31–60, 61–90 and more than 90 days past due). Every figure is one SQL
aggregate over the open invoices (gross − credited − paid > 0), a SUM(CASE …) per bucket grouped
by customer; no invoice is ever read into Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.models import Invoice
from config.exports import export_response
from config.money import ZERO
from customers.models import Customer

MONEY = DecimalField(max_digits=14, decimal_places=2)
DEFAULT_BUCKET_ENDS = (30, 60, 90)


@dataclass(frozen=True)
class AgeingBucket:
    """Days past due from `first` to `last` (inclusive); `first` None is "not yet due", `last` None has no end."""

    key: str
    first: int | None
    last: int | None

    @property
    def label(self) -> str:
        if self.first is None:
            return _("Current")
        if self.last is None:
            return _("> %(days)s days") % {"days": self.first - 1}
        return _("%(first)s–%(last)s days") % {"first": self.first, "last": self.last}

    def condition(self, as_of: date) -> Q:
        """The invoices in this bucket on `as_of`, as a condition on their due date (index-friendly)."""
        if self.first is None:
            return Q(due_date__gte=as_of) | Q(due_date__isnull=True)
        condition = Q(due_date__lte=as_of - timedelta(days=self.first))
        if self.last is not None:
            condition &= Q(due_date__gte=as_of - timedelta(days=self.last))
        return condition

    def holds(self, days_overdue: int) -> bool:
        if self.first is None:
            return days_overdue <= 0
        return days_overdue >= self.first and (self.last is None or days_overdue <= self.last)


def bucket_ends() -> tuple[int, ...]:
    """The configured last days of the overdue buckets, increasing and positive."""
    ends = tuple(getattr(settings, "AR_AGEING_BUCKETS", DEFAULT_BUCKET_ENDS) or DEFAULT_BUCKET_ENDS)
    if any(end < 1 for end in ends) or list(ends) != sorted(set(ends)):
        raise ValueError(f"AR_AGEING_BUCKETS must be increasing positive day counts, not {ends!r}")
    return ends


def ageing_buckets() -> list[AgeingBucket]:
    """Current, then one bucket per configured end, then everything older."""
    buckets = [AgeingBucket("current", None, 0)]
    first = 1
    for end in bucket_ends():
        buckets.append(AgeingBucket(f"d{first}_{end}", first, end))
        first = end + 1
    buckets.append(AgeingBucket(f"d{first}_plus", first, None))
    return buckets


def open_amount_expression():
    return F("total_gross") - F("amount_credited") - F("amount_paid")


def _bucket_sums(as_of: date, buckets: list[AgeingBucket]) -> dict:
    open_amount = open_amount_expression()
    sums = {
        bucket.key: Coalesce(Sum(Case(When(bucket.condition(as_of), then=open_amount), output_field=MONEY)), Value(ZERO))
        for bucket in buckets
    }
    sums["total"] = Coalesce(Sum(open_amount, output_field=MONEY), Value(ZERO))
    sums["overdue"] = Coalesce(Sum(Case(When(due_date__lt=as_of, then=open_amount), output_field=MONEY)), Value(ZERO))
    sums["invoice_count"] = Count("customer_id")  # a column the ageing index carries
    return sums


def open_invoices(
    *, salesperson_id: int | None = None, search: str = "", customer_id: int | None = None, issued_until: date | None = None
) -> QuerySet:
    """Issued invoices with money still owed, narrowed by the customer's salesperson, a customer
    (code or name) search, one customer, or the last day they were issued on."""
    invoices = Invoice.objects.open()
    if issued_until is not None:
        invoices = invoices.filter(issued_at__date__lte=issued_until)
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    if salesperson_id is not None:
        invoices = invoices.filter(customer__salesperson_id=salesperson_id)
    search = (search or "").strip()
    if search:
        invoices = invoices.filter(
            Q(customer__code__iexact=search) | Q(customer__name__icontains=search) | Q(customer__alt_name__icontains=search)
        )
    return invoices


def ageing_by_customer(
    *, as_of: date, salesperson_id: int | None = None, search: str = "", order: str = "-total", with_names: bool = True
) -> QuerySet:
    """One row per customer with money owed: the open amount in every bucket, the overdue part, the
    total and how many invoices; one GROUP BY query, largest total first. With `with_names` the rows
    carry the customer's code and name (grouped by them too); a page reads them for its rows instead
    (customer_names), which keeps the grouping on the invoice table alone."""
    buckets = ageing_buckets()
    columns = ["customer_id", "customer__code", "customer__name"] if with_names else ["customer_id"]
    if order == "name":
        ordering = ["customer__name", "customer_id"]
    else:
        ordering = [order or "-total", "customer_id"]
    return (
        open_invoices(salesperson_id=salesperson_id, search=search)
        .values(*columns)
        .annotate(**_bucket_sums(as_of, buckets))
        .order_by(*ordering)
    )


def sum_rows(rows: list[dict]) -> dict:
    """The totals of per-customer rows (one pass over the customers, never over invoices)."""
    keys = [bucket.key for bucket in ageing_buckets()] + ["overdue", "total"]
    totals = {key: sum((row[key] for row in rows), ZERO) for key in keys}
    totals["invoice_count"] = sum(row["invoice_count"] for row in rows)
    totals["customer_count"] = len(rows)
    return totals


def customer_names(rows: list[dict]) -> list[dict]:
    """The rows with their customer's code and name, read in one query."""
    customers = Customer.objects.in_bulk([row["customer_id"] for row in rows])
    return [
        {**row, "customer__code": customers[row["customer_id"]].code, "customer__name": customers[row["customer_id"]].name}
        for row in rows
    ]


def ageing_totals(
    *,
    as_of: date,
    salesperson_id: int | None = None,
    search: str = "",
    customer_id: int | None = None,
    issued_until: date | None = None,
) -> dict:
    """The same sums over every customer (or one): one aggregate query."""
    invoices = open_invoices(salesperson_id=salesperson_id, search=search, customer_id=customer_id, issued_until=issued_until)
    totals = invoices.aggregate(**_bucket_sums(as_of, ageing_buckets()), customer_count=Count("customer_id", distinct=True))
    return {key: (value if value is not None else ZERO) for key, value in totals.items()}


def customer_ageing(*, customer_id: int, as_of: date) -> list[tuple[AgeingBucket, Decimal]]:
    """One customer's open amount per bucket on `as_of`, of the invoices issued by then (what a statement prints)."""
    totals = ageing_totals(as_of=as_of, customer_id=customer_id, issued_until=as_of)
    return [(bucket, totals[bucket.key]) for bucket in ageing_buckets()]


# --- export ---------------------------------------------------------------------------------------


def _headers(buckets: list[AgeingBucket]) -> list[str]:
    return [_("Customer code"), _("Customer"), *[b.label for b in buckets], _("Overdue"), _("Total"), _("Invoices")]


def export_rows(rows: QuerySet, totals: dict) -> Iterator[list]:
    """One row per customer, then the totals row (config.exports guards text a spreadsheet would run)."""
    buckets = ageing_buckets()
    for row in rows.iterator(chunk_size=2000):
        yield [
            row["customer__code"],
            row["customer__name"],
            *[row[b.key] for b in buckets],
            row["overdue"],
            row["total"],
            row["invoice_count"],
        ]
    yield ["", _("Total"), *[totals[b.key] for b in buckets], totals["overdue"], totals["total"], totals["invoice_count"]]


def ageing_export_response(rows: QuerySet, totals: dict, *, as_of: date, fmt: str):
    """The ageing as CSV (UTF-8 with a BOM, streamed) or XLSX (amounts as numbers), through config.exports."""
    return export_response(
        fmt=fmt,
        filename=f"receivables-ageing-{as_of:%Y%m%d}",
        headers=_headers(ageing_buckets()),
        rows=export_rows(rows, totals),
        sheet_title=_("Receivables ageing"),
    )

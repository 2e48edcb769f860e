"""Reads of the customer snapshot: who may see which customers, the dashboard's figures, segments, top customers,
new and returning customers per month, complaint rates, and one customer's relationship with the business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast, NullIf
from django.utils import timezone

from billing.models import Invoice, InvoiceStatus
from billing.payments.selectors import customer_money
from config.money import ZERO
from customers.models import Complaint, Customer
from orders.models import SalesOrder, SalesOrderLine
from reports.access import salesperson_scope
from reports.snapshots import snapshot_as_of

from .models import CustomerMonth, CustomerSnapshot, Segment
from .segments import SEGMENT_ORDER
from .snapshot import BOOKED, OPEN, SNAPSHOT_NAME

VIEW_PERMISSION = "reports.view_customer_report"


def customers_as_of() -> datetime | None:
    """When the customer snapshot was last brought up to date ("data as of")."""
    return snapshot_as_of(SNAPSHOT_NAME)


def may_see_customer(*, user, customer: Customer) -> bool:
    """Managers see every customer's figures; a salesperson those of the customers they look after."""
    if not user.has_perm(VIEW_PERMISSION):
        return False
    scope = salesperson_scope(user)
    return scope is None or customer.salesperson_id == scope


def visible_snapshots(*, user, salesperson_id: int | None = None) -> QuerySet[CustomerSnapshot]:
    """The snapshot rows of the customers this user may see (narrowed to one salesperson's, when asked)."""
    rows = CustomerSnapshot.objects.all()
    scope = salesperson_scope(user)
    if scope is not None:
        rows = rows.filter(customer__salesperson_id=scope)
    elif salesperson_id is not None:
        rows = rows.filter(customer__salesperson_id=salesperson_id)
    return rows


def visible_months(*, user, salesperson_id: int | None = None) -> QuerySet[CustomerMonth]:
    rows = CustomerMonth.objects.all()
    scope = salesperson_scope(user)
    if scope is not None:
        rows = rows.filter(customer__salesperson_id=scope)
    elif salesperson_id is not None:
        rows = rows.filter(customer__salesperson_id=salesperson_id)
    return rows


def customer_snapshot(*, customer: Customer) -> CustomerSnapshot | None:
    return CustomerSnapshot.objects.filter(customer=customer).first()


# --- the dashboard's figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFigures:
    """What the dashboard shows of the customers this user may see."""

    new_this_month: int  # first booked order this calendar month
    at_risk: int  # in the "at risk" segment
    active: int  # a booked order in the last 12 months
    lost: int  # ordered before, but not in the last 12 months
    as_of: datetime | None


def customer_figures(*, user, today: date | None = None, salesperson_id: int | None = None) -> CustomerFigures:
    """New customers this month, customers at risk, active and lost ones (one query, plus "data as of")."""
    today = today or timezone.localdate()
    month_start = timezone.make_aware(datetime.combine(today.replace(day=1), datetime.min.time()))
    counts = visible_snapshots(user=user, salesperson_id=salesperson_id).aggregate(
        new=Count("pk", filter=Q(first_order_at__gte=month_start)),
        at_risk=Count("pk", filter=Q(segment=Segment.AT_RISK)),
        active=Count("pk", filter=Q(orders_12m__gt=0)),
        lost=Count("pk", filter=Q(segment=Segment.LOST)),
    )
    return CustomerFigures(
        new_this_month=counts["new"],
        at_risk=counts["at_risk"],
        active=counts["active"],
        lost=counts["lost"],
        as_of=customers_as_of(),
    )


# --- the customer report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    orders_12m: int
    gross_12m: Decimal
    customer_share: Decimal | None  # of the customers shown
    gross_share: Decimal | None  # of their gross amount in the 12 months


def segment_summary(*, user, salesperson_id: int | None = None) -> list[SegmentRow]:
    """Every segment (empty ones too) with its customers, orders and gross amount in the last 12 months."""
    found = {
        row["segment"]: row
        for row in visible_snapshots(user=user, salesperson_id=salesperson_id)
        .values("segment")
        .annotate(customers=Count("pk"), orders=Sum("orders_12m"), gross=Sum("gross_12m"))
        .order_by()
    }
    customers = sum(row["customers"] for row in found.values())
    gross = sum((row["gross"] or ZERO for row in found.values()), ZERO)
    summary = []
    for segment in SEGMENT_ORDER:
        row = found.get(segment, {})
        segment_gross = row.get("gross") or ZERO
        summary.append(
            SegmentRow(
                segment=segment,
                customers=row.get("customers", 0),
                orders_12m=row.get("orders") or 0,
                gross_12m=segment_gross,
                customer_share=Decimal(row.get("customers", 0)) / customers if customers else None,
                gross_share=segment_gross / gross if gross else None,
            )
        )
    return summary


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of the calendar months from start's to end's, both included."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True)
class TopCustomers:
    rows: list[dict]  # the first `limit` customers, the most gross amount first
    customers: int  # every customer with a booked order in the period (and the filters)
    orders: int
    gross: Decimal


TOP_CUSTOMERS = 1000


def top_customers(
    *, user, start: date, end: date, segment: str = "", salesperson_id: int | None = None, limit: int = TOP_CUSTOMERS
) -> TopCustomers:
    """The customers with the most gross amount on booked orders in the calendar months from start to end, with
    their segment and 12 months' figures, and the totals over all of them.

    Rows are dicts of customer_id, code, name, salesperson, orders, gross, net, segment, recency_score,
    frequency_score, monetary_score, last_order_at, gross_12m (read as values: no model objects per customer).
    """
    months = visible_months(user=user, salesperson_id=salesperson_id).filter(month__gte=month_start(start), month__lte=end)
    snapshots = visible_snapshots(user=user, salesperson_id=salesperson_id)
    if segment:
        months = months.filter(customer_id__in=CustomerSnapshot.objects.filter(segment=segment).values("customer_id"))
    ranked = list(
        months.values("customer_id")
        .annotate(orders=Sum("orders"), gross=Sum("gross"), net=Sum("net"))
        .order_by("-gross", "customer_id")
    )
    first = ranked[:limit]
    found = {
        row["customer_id"]: row
        for row in snapshots.filter(customer_id__in=[row["customer_id"] for row in first])
        .values(
            "customer_id",
            "segment",
            "recency_score",
            "frequency_score",
            "monetary_score",
            "last_order_at",
            "gross_12m",
            code=F("customer__code"),
            name=F("customer__name"),
            salesperson_username=F("customer__salesperson__username"),
            salesperson_first_name=F("customer__salesperson__first_name"),
            salesperson_last_name=F("customer__salesperson__last_name"),
        )
        .order_by()
    }
    rows = []
    for row in first:
        snapshot = found.get(row["customer_id"])
        if snapshot is None:  # a customer made after the last rebuild, not yet refreshed
            continue
        first_name, last_name = snapshot.pop("salesperson_first_name") or "", snapshot.pop("salesperson_last_name") or ""
        username = snapshot.pop("salesperson_username") or ""
        snapshot["salesperson"] = f"{first_name} {last_name}".strip() or username
        rows.append({**row, **snapshot})
    return TopCustomers(
        rows=rows,
        customers=len(ranked),
        orders=sum(row["orders"] for row in ranked),
        gross=sum((row["gross"] for row in ranked), ZERO),
    )


@dataclass(frozen=True)
class MonthRow:
    month: date
    new_customers: int
    returning_customers: int
    new_gross: Decimal
    returning_gross: Decimal


def new_and_returning(*, user, start: date, end: date, salesperson_id: int | None = None) -> list[MonthRow]:
    """Per calendar month from start to end: customers ordering for the first time, and those who ordered before."""
    found = {
        row["month"]: row
        for row in visible_months(user=user, salesperson_id=salesperson_id)
        .filter(month__gte=month_start(start), month__lte=end)
        .values("month")
        .annotate(
            new=Count("pk", filter=Q(is_first_month=True)),
            returning=Count("pk", filter=Q(is_first_month=False)),
            new_gross=Sum("gross", filter=Q(is_first_month=True)),
            returning_gross=Sum("gross", filter=Q(is_first_month=False)),
        )
        .order_by()
    }
    return [
        MonthRow(
            month=month,
            new_customers=found.get(month, {}).get("new", 0),
            returning_customers=found.get(month, {}).get("returning", 0),
            new_gross=found.get(month, {}).get("new_gross") or ZERO,
            returning_gross=found.get(month, {}).get("returning_gross") or ZERO,
        )
        for month in months_between(start, end)
    ]


def complaint_rates(
    *, user, segment: str = "", salesperson_id: int | None = None, limit: int | None = None
) -> QuerySet[CustomerSnapshot]:
    """Customers with complaints in the last 12 months, the most complaints per order first
    (`complaint_rate`: complaints per booked order in the 12 months; empty without orders)."""
    rows = visible_snapshots(user=user, salesperson_id=salesperson_id).filter(complaints_12m__gt=0)
    if segment:
        rows = rows.filter(segment=segment)
    rate = ExpressionWrapper(
        Cast("complaints_12m", DecimalField(max_digits=14, decimal_places=4))
        / NullIf(Cast("orders_12m", DecimalField(max_digits=14, decimal_places=4)), 0),
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )
    rows = (
        rows.annotate(complaint_rate=rate)
        .select_related("customer", "customer__salesperson")
        .order_by(F("complaint_rate").desc(nulls_first=True), "-complaints_12m", "customer_id")
    )
    return rows[:limit] if limit else rows


def complaint_totals(*, user, salesperson_id: int | None = None) -> dict:
    """Complaints and booked orders in the last 12 months over the customers shown, and their ratio."""
    totals = visible_snapshots(user=user, salesperson_id=salesperson_id).aggregate(
        complaints=Sum("complaints_12m"), orders=Sum("orders_12m")
    )
    complaints, orders = totals["complaints"] or 0, totals["orders"] or 0
    return {"complaints": complaints, "orders": orders, "rate": Decimal(complaints) / orders if orders else None}


# --- one customer's relationship ----------------------------------------------------------------------


def relationship_months(*, customer: Customer, start: date, end: date) -> list[dict]:
    """The customer's booked orders and amounts per calendar month from start to end (months without orders too)."""
    found = {
        row.month: row for row in CustomerMonth.objects.filter(customer=customer, month__gte=month_start(start), month__lte=end)
    }
    return [
        {
            "month": month,
            "orders": found[month].orders if month in found else 0,
            "net": found[month].net if month in found else ZERO,
            "gross": found[month].gross if month in found else ZERO,
        }
        for month in months_between(start, end)
    ]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


PRODUCTS_SHOWN = 50


def relationship_products(*, customer: Customer, start: date, end: date, limit: int | None = PRODUCTS_SHOWN) -> list[dict]:
    """What the customer bought on its booked orders entered from start to end, the most (net amount) first.

    Read from the customer's own order lines, found through its orders' index: one customer's lines for a
    period are a few hundred rows (no snapshot per customer and product: at a million orders that table is as
    large as the lines themselves and would take the nightly rebuild past its minute).
    """
    rows = (
        SalesOrderLine.objects.filter(
            order__customer=customer,
            order__status__in=BOOKED,
            order__created_at__gte=_local_midnight(start),
            order__created_at__lt=_local_midnight(end + timedelta(days=1)),
        )
        .values("product_id", "product__sku", "product__name")
        .annotate(
            quantity=Sum("quantity"),
            net=Sum("line_net"),
            orders=Count("order_id", distinct=True),
            last_ordered_at=Max("order__created_at"),
        )
        .order_by("-net", "product_id")
    )
    return list(rows[:limit] if limit else rows)


OPEN_ORDERS_SHOWN = 50


def relationship_open_orders(*, customer: Customer, limit: int = OPEN_ORDERS_SHOWN) -> list[SalesOrder]:
    """The customer's orders submitted and not yet shipped in full, oldest first (a short list, read as it is now)."""
    return list(SalesOrder.objects.filter(customer=customer, status__in=OPEN).order_by("created_at", "pk")[:limit])


RECENT_COMPLAINTS = 10


def relationship_complaints(*, customer: Customer, limit: int = RECENT_COMPLAINTS) -> list[Complaint]:
    return list(Complaint.objects.filter(customer=customer).order_by("-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class PaymentBehaviour:
    """How the customer paid the invoices issued in the last 12 months."""

    invoices: int  # issued in the 12 months
    paid: int  # of them, settled by payments
    paid_on_time: int  # settled by the due date
    average_days_to_pay: Decimal | None  # issue date to the last payment
    average_days_late: Decimal | None  # of those paid after the due date
    open_receivables: Decimal
    overdue: Decimal
    overdue_invoices: int


def payment_behaviour(*, customer: Customer, today: date | None = None) -> PaymentBehaviour:
    """The customer's invoices of the last 12 months: how many were paid, how soon and how late; what is open now."""
    today = today or timezone.localdate()
    since = timezone.now() - timedelta(days=365)
    invoices = list(
        Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED, issued_at__gte=since)
        .annotate(paid_on=Max("payment_allocations__payment__date", filter=Q(payment_allocations__reversed_at__isnull=True)))
        .only("issued_at", "due_date", "total_gross", "amount_paid", "amount_credited")
    )
    days_to_pay, days_late, on_time, paid = [], [], 0, 0
    for invoice in invoices:
        if invoice.open_amount > 0 or invoice.paid_on is None:
            continue
        paid += 1
        days_to_pay.append((invoice.paid_on - timezone.localdate(invoice.issued_at)).days)
        late = (invoice.paid_on - invoice.due_date).days if invoice.due_date else 0
        if late > 0:
            days_late.append(late)
        else:
            on_time += 1
    money = customer_money(customer=customer)

    def average(values: list[int]) -> Decimal | None:
        return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1")) if values else None

    return PaymentBehaviour(
        invoices=len(invoices),
        paid=paid,
        paid_on_time=on_time,
        average_days_to_pay=average(days_to_pay),
        average_days_late=average(days_late),
        open_receivables=money.balance,
        overdue=money.overdue,
        overdue_invoices=money.overdue_count,
    )

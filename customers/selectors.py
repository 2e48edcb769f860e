"""Reads of customers that pages, review rules and reports share."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from config.money import ZERO, round_money

from .models import Customer


def customer_credit_exposure(*, customer: Customer, extra: Decimal = ZERO, exclude_order_id: int | None = None) -> Decimal:
    """Open receivables + approved orders not yet invoiced (+ `extra`, e.g. the order being checked).

    Receivables join this sum when billing exists; until then exposure is the committed orders.
    """
    from orders.models import OPEN_COMMITTED

    orders = customer.orders.filter(status__in=OPEN_COMMITTED)
    if exclude_order_id:
        orders = orders.exclude(pk=exclude_order_id)
    committed = orders.aggregate(total=Sum("total"))["total"] or ZERO
    return round_money(committed + extra)  # SQLite's SUM carries extra digits; money is cents


def customer_available_credit(*, customer: Customer) -> Decimal:
    return customer.credit_limit - customer_credit_exposure(customer=customer)


def customer_search(*, query: str, limit: int = 20):
    """Customers whose code, name (any script), other name, phone or tax ID contains the query."""
    from django.db.models import Q

    query = (query or "").strip()
    customers = Customer.objects.all()
    if query:
        customers = customers.filter(
            Q(code__icontains=query)
            | Q(name__icontains=query)
            | Q(alt_name__icontains=query)
            | Q(phone__icontains=query)
            | Q(tax_id__icontains=query)
        )
    return customers.order_by("name", "pk")[:limit]


RECENT_ORDERS = 20
TIMELINE_LENGTH = 50
QUEUE_PREVIEW = 5


def customer_list(*, filters, user=None):
    """The customer list's FilterSet (search, kind, segment, rating, blocked, salesperson, tag, sort)."""
    from .filters import CustomerFilter

    customers = Customer.objects.select_related("salesperson").order_by("name", "pk")
    return CustomerFilter(filters or None, queryset=customers)


def _order_url(order) -> str:
    try:
        return order.get_absolute_url()
    except NoReverseMatch:  # the order pages are not installed in this deployment
        return ""


def customer_overview(*, customer: Customer, user) -> dict:
    """Everything the customer 360 page shows, in a fixed number of queries."""
    from .models import OPEN_COMPLAINT_STATES

    overview: dict = {
        "addresses": list(customer.addresses.all()),
        "contacts": list(customer.contacts.all()),
        "exposure": customer_credit_exposure(customer=customer),
        "events": list(customer.events.select_related("by", "complaint")[:TIMELINE_LENGTH]),
        "open_complaints": [],
        "complaint_count": 0,
        "orders": [],
        "order_count": 0,
        "order_status_counts": [],
    }
    overview["available_credit"] = customer.credit_limit - overview["exposure"]
    overview["over_limit"] = overview["available_credit"] < 0
    if user.has_perm("customers.view_complaint"):
        overview["open_complaints"] = list(
            customer.complaints.filter(state__in=OPEN_COMPLAINT_STATES).select_related("assignee", "order")
        )
        overview["complaint_count"] = customer.complaints.count()
    if user.has_perm("orders.view_salesorder"):
        from orders.models import OrderStatus

        orders = list(customer.orders.order_by("-created_at", "-pk")[:RECENT_ORDERS])
        for order in orders:
            order.detail_url = _order_url(order)
        overview["orders"] = orders
        labels = dict(OrderStatus.choices)
        counts = customer.orders.values("status").annotate(n=Count("pk")).order_by("status")
        overview["order_status_counts"] = [
            {"status": row["status"], "label": labels.get(row["status"], row["status"]), "count": row["n"]} for row in counts
        ]
        overview["order_count"] = sum(row["count"] for row in overview["order_status_counts"])
    return overview


def complaint_list(*, filters, user):
    """The team's complaints list, filtered (status, assignee, category, customer, mine)."""
    from .filters import ComplaintFilter
    from .models import Complaint

    complaints = Complaint.objects.select_related("customer", "assignee", "order").order_by("-created_at", "-pk")
    return ComplaintFilter(filters or None, queryset=complaints, user=user)


def home_queues(user) -> list:
    """Complaints assigned to this salesperson or manager; managers also see unassigned ones."""
    from config.roles import MANAGER, SALES

    from .models import OPEN_COMPLAINT_STATES, Complaint

    if not user.has_perm("customers.view_complaint"):
        return []
    groups = set(user.groups.values_list("name", flat=True))
    role = SALES if SALES in groups else MANAGER if MANAGER in groups else None
    if role is None:
        return []
    list_url = reverse("customers:complaint_list")
    open_complaints = Complaint.objects.filter(state__in=OPEN_COMPLAINT_STATES).select_related("customer")
    queues = [
        _queue(
            _("Complaints assigned to me"),
            f"{list_url}?mine=on&state=open&state=in_progress",
            open_complaints.filter(assignee=user).order_by("created_at", "pk"),
            _("No open complaint is assigned to you."),
            role,
        )
    ]
    if MANAGER in groups:
        queues.append(
            _queue(
                _("Unassigned complaints"),
                f"{list_url}?state=open&state=in_progress",
                open_complaints.filter(assignee__isnull=True).order_by("created_at", "pk"),
                _("Every open complaint has someone working on it."),
                MANAGER,
            )
        )
    return queues


def _queue(title, url, queryset, empty_text, role):
    from config.home import WorkQueue

    items = list(queryset[:QUEUE_PREVIEW])
    count = len(items) if len(items) < QUEUE_PREVIEW else queryset.count()
    return WorkQueue(title=title, url=url, count=count, items=items, empty_text=empty_text, role=role)

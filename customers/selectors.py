"""Reads of customers that pages, review rules and reports share."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from config.home import work_queue
from config.money import ZERO, round_money
from config.roles import FINANCE, MANAGER, SALES, user_roles
from config.transitions import allowed_transitions

from .filters import ComplaintFilter, CustomerFilter
from .models import OPEN_COMPLAINT_STATES, Complaint, CreditChangeRequest, Customer
from .types import CustomerPanel


def customer_search(*, query: str, limit: int = 20):
    """Customers whose code, name (any script), other name, phone or tax ID contains the query."""
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


TIMELINE_LENGTH = 50


def customer_list(*, filters, user=None):
    """The customer list's FilterSet (search, kind, segment, rating, blocked, salesperson, tag, sort)."""
    customers = Customer.objects.select_related("salesperson").order_by("name", "pk")
    return CustomerFilter(filters or None, queryset=customers)


def customer_panels(*, customer: Customer, user) -> list[CustomerPanel]:
    """The sections higher apps add to the customer page (settings.CUSTOMER_PAGE_PANELS), as this user may see them."""
    panels = []
    for path in settings.CUSTOMER_PAGE_PANELS:
        panel = import_string(path)(customer=customer, user=user)
        if panel is not None:
            panels.append(panel)
    return panels


def customer_overview(*, customer: Customer, user) -> dict:
    """Everything the customer 360 page shows, in a fixed number of queries.

    Credit exposure comes from the panels that know it (orders, later billing); without one the
    page shows the credit limit alone.
    """
    panels = customer_panels(customer=customer, user=user)
    exposures = [panel.exposure for panel in panels if panel.exposure is not None]
    exposure = round_money(sum(exposures, ZERO)) if exposures else None
    available_credit = customer.credit_limit - exposure if exposure is not None else None
    overview: dict = {
        "addresses": list(customer.addresses.all()),
        "contacts": list(customer.contacts.all()),
        "events": list(customer.events.select_related("by", "complaint")[:TIMELINE_LENGTH]),
        "panels": panels,
        "exposure": exposure,
        "exposure_notes": [panel.exposure_note for panel in panels if panel.exposure_note],
        "available_credit": available_credit,
        "over_limit": available_credit is not None and available_credit < 0,
        "open_complaints": [],
        "complaint_count": 0,
        "pending_credit_requests": list(
            customer.credit_requests.filter(state=CreditChangeRequest.State.PENDING).select_related("requested_by")
        ),
    }
    if user.has_perm("customers.view_complaint"):
        overview["open_complaints"] = list(
            customer.complaints.filter(state__in=OPEN_COMPLAINT_STATES).select_related("assignee", "order")
        )
        overview["complaint_count"] = customer.complaints.count()
    return overview


def complaint_list(*, filters, user):
    """The team's complaints list, filtered (status, assignee, category, customer, mine)."""
    complaints = Complaint.objects.select_related("customer", "assignee", "order").order_by("-created_at", "-pk")
    return ComplaintFilter(filters or None, queryset=complaints, user=user)


CREDIT_REQUEST_LIST_LENGTH = 100


def credit_request_list(*, user, state: str = "") -> list[CreditChangeRequest]:
    """Credit change requests, waiting ones first: all of them for finance and managers, their own for others.

    Each carries `decisions`: the transitions (approve, reject) this user may fire on it now.
    """
    requests = CreditChangeRequest.objects.select_related("customer", "requested_by", "decided_by")
    if not user.has_perm("customers.change_credit_terms"):
        requests = requests.filter(requested_by=user)
    if state in CreditChangeRequest.State.values:
        requests = requests.filter(state=state)
    ordered = list(requests.order_by("-requested_at", "-pk")[:CREDIT_REQUEST_LIST_LENGTH])
    ordered.sort(key=lambda r: r.state != CreditChangeRequest.State.PENDING)
    for credit_request in ordered:
        credit_request.decisions = allowed_transitions(credit_request, user, ["approve", "reject"])
    return ordered


def home_queues(user) -> list:
    """Complaints assigned to this salesperson or manager (managers also see unassigned ones);
    credit change requests waiting for finance."""
    groups = user_roles(user)
    queues = []
    if FINANCE in groups and user.has_perm("customers.change_credit_terms"):
        queues.append(
            _queue(
                _("Credit changes to decide"),
                reverse("customers:credit_request_list") + "?state=pending",
                CreditChangeRequest.objects.filter(state=CreditChangeRequest.State.PENDING)
                .select_related("customer")
                .order_by("requested_at", "pk"),
                _("No credit change is waiting for a decision."),
                FINANCE,
            )
        )
    return queues + _complaint_queues(user, groups)


def _complaint_queues(user, groups: set[str]) -> list:
    if not user.has_perm("customers.view_complaint"):
        return []
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
    return work_queue(title=title, url=url, queryset=queryset, empty_text=empty_text, role=role)

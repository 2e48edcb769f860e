"""Reads of orders that pages, queues and reports share."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import WorkQueue, work_queue
from config.roles import MANAGER, REVIEWER, SALES, WAREHOUSE, user_roles
from config.transitions import allowed_transitions
from orders.entry.filters import OrderFilter
from orders.entry.services import order_may_change
from orders.models import OrderEvent, OrderStatus, ReviewFinding, SalesOrder, SalesOrderLine
from orders.review.rules import order_review_queue


def _queue(title, url, queryset, empty_text, role) -> WorkQueue:
    return work_queue(title=title, url=url, queryset=queryset.select_related("customer"), empty_text=empty_text, role=role)


def home_queues(user) -> list[WorkQueue]:
    """The order queues of the roles this user holds."""
    queues: list[WorkQueue] = []
    orders = SalesOrder.objects.all()
    list_url = reverse("orders:list")
    groups = user_roles(user)
    if SALES in groups and user.has_perm("orders.add_salesorder"):
        queues.append(
            _queue(
                _("My drafts"),
                f"{list_url}?status=draft&mine=1",
                orders.filter(status=OrderStatus.DRAFT, created_by=user).order_by("-updated_at"),
                _("No drafts. Start a new order from the menu."),
                SALES,
            )
        )
        queues.append(
            _queue(
                _("Rejected orders to fix"),
                f"{list_url}?status=rejected&mine=1",
                orders.filter(status=OrderStatus.REJECTED, created_by=user).order_by("-updated_at"),
                _("Nothing was rejected."),
                SALES,
            )
        )
    if (REVIEWER in groups or MANAGER in groups) and user.has_perm("orders.review_salesorder"):
        queues.append(
            _queue(
                _("Orders waiting for review"),
                reverse("orders:review_queue"),
                order_review_queue(),
                _("The review queue is empty."),
                REVIEWER,
            )
        )
    if WAREHOUSE in groups and user.has_perm("orders.allocate_salesorder"):
        queues.append(
            _queue(
                _("Approved orders to allocate"),
                f"{list_url}?status=approved",
                orders.filter(status=OrderStatus.APPROVED).order_by("approved_at", "pk"),
                _("Every approved order is allocated."),
                WAREHOUSE,
            )
        )
        queues.append(
            _queue(
                _("Backordered orders"),
                f"{list_url}?status=backordered",
                orders.filter(status=OrderStatus.BACKORDERED).order_by("approved_at", "pk"),
                _("No order is waiting for stock."),
                WAREHOUSE,
            )
        )
    # Finance's queue of delivered orders not yet invoiced is billing's (billing.order_panel.home_queues).
    return queues


def order_filterset(*, data, user) -> OrderFilter:
    """The order list's FilterSet over every order (each role with view permission sees all)."""
    orders = SalesOrder.objects.select_related("customer", "created_by")
    return OrderFilter(data=data or None, queryset=orders, user=user)


def order_list(*, filters, user) -> QuerySet[SalesOrder]:
    """Orders for the list page and its exports, narrowed by the list's filters."""
    return order_filterset(data=filters, user=user).qs


def order_detail(*, pk: int) -> SalesOrder:
    """One order with everything its page shows, in a fixed number of queries whatever its size."""
    lines = SalesOrderLine.objects.select_related("product").order_by("position", "pk")
    events = OrderEvent.objects.select_related("by").order_by("at", "pk")
    findings = ReviewFinding.objects.order_by("-submission", "severity", "pk")
    return get_object_or_404(
        SalesOrder.objects.select_related("customer", "shipping_address", "contact", "created_by").prefetch_related(
            Prefetch("lines", queryset=lines), Prefetch("events", queryset=events), Prefetch("findings", queryset=findings)
        ),
        pk=pk,
    )


def order_for_edit(*, pk: int) -> SalesOrder:
    """A draft with its lines and their products, for the entry form."""
    lines = SalesOrderLine.objects.select_related("product").order_by("position", "pk")
    return get_object_or_404(
        SalesOrder.objects.select_related("customer").prefetch_related(Prefetch("lines", queryset=lines)), pk=pk
    )


def order_allowed_actions(*, order: SalesOrder, user) -> dict[str, bool]:
    """Which of the order's buttons this user sees: what the state machine allows them now, on their own
    orders (someone else's only with the manage-all permission)."""
    if not order_may_change(order=order, actor=user):
        return {"edit": False, "submit": False, "cancel": False, "reopen": False}
    allowed = allowed_transitions(order, user, ["submit", "cancel", "reopen"])
    return {
        "edit": order.is_editable and user.has_perm("orders.change_salesorder"),
        "submit": "submit" in allowed,
        "cancel": "cancel" in allowed,
        "reopen": "reopen" in allowed,
    }

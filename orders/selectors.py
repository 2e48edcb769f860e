"""Reads of orders that pages, queues and reports share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.home import WorkQueue
from config.roles import FINANCE, MANAGER, REVIEWER, SALES, WAREHOUSE

from .models import OrderStatus, SalesOrder

QUEUE_PREVIEW = 5


def review_queue() -> QuerySet[SalesOrder]:
    """Orders waiting for a reviewer, oldest submission first."""
    return SalesOrder.objects.filter(status=OrderStatus.IN_REVIEW).select_related("customer").order_by("submitted_at", "pk")


def _queue(title, url, queryset, empty_text, role) -> WorkQueue:
    items = list(queryset.select_related("customer")[:QUEUE_PREVIEW])
    count = len(items) if len(items) < QUEUE_PREVIEW else queryset.count()
    return WorkQueue(title=title, url=url, count=count, items=items, empty_text=empty_text, role=role)


def home_queues(user) -> list[WorkQueue]:
    """The order queues of the roles this user holds."""
    queues: list[WorkQueue] = []
    orders = SalesOrder.objects.all()
    list_url = reverse("orders:list")
    groups = set(user.groups.values_list("name", flat=True))
    if SALES in groups and user.has_perm("orders.add_salesorder"):
        queues.append(_queue(
            _("My drafts"), f"{list_url}?status=draft&mine=1",
            orders.filter(status=OrderStatus.DRAFT, created_by=user).order_by("-updated_at"),
            _("No drafts. Start a new order from the menu."), SALES,
        ))
        queues.append(_queue(
            _("Rejected orders to fix"), f"{list_url}?status=rejected&mine=1",
            orders.filter(status=OrderStatus.REJECTED, created_by=user).order_by("-updated_at"),
            _("Nothing was rejected."), SALES,
        ))
    if (REVIEWER in groups or MANAGER in groups) and user.has_perm("orders.review_salesorder"):
        queues.append(_queue(
            _("Orders waiting for review"), reverse("orders:review_queue"), review_queue(),
            _("The review queue is empty."), REVIEWER,
        ))
    if WAREHOUSE in groups and user.has_perm("orders.allocate_salesorder"):
        queues.append(_queue(
            _("Approved orders to allocate"), f"{list_url}?status=approved",
            orders.filter(status=OrderStatus.APPROVED).order_by("approved_at", "pk"),
            _("Every approved order is allocated."), WAREHOUSE,
        ))
        queues.append(_queue(
            _("Backordered orders"), f"{list_url}?status=backordered",
            orders.filter(status=OrderStatus.BACKORDERED).order_by("approved_at", "pk"),
            _("No order is waiting for stock."), WAREHOUSE,
        ))
    if FINANCE in groups and user.has_perm("orders.view_salesorder"):
        queues.append(_queue(
            _("Delivered orders to invoice"), f"{list_url}?status=delivered",
            orders.filter(status=OrderStatus.DELIVERED).order_by("updated_at"),
            _("Nothing delivered is waiting for an invoice."), FINANCE,
        ))
    return queues


def order_list(*, filters, user) -> QuerySet[SalesOrder]:
    """Orders for the list page; the order list's FilterSet narrows them."""
    orders = SalesOrder.objects.select_related("customer", "created_by")
    if status := filters.get("status"):
        orders = orders.filter(status=status)
    if filters.get("mine"):
        orders = orders.filter(created_by=user)
    return orders

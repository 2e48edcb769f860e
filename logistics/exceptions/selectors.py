"""Reads of delivery exceptions: who may see which, the queue, the home queues, the order and customer panels."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.home import WorkQueue, work_queue
from config.roles import MANAGER, SALES, WAREHOUSE, user_roles
from customers.types import CustomerPanel, PanelCell, PanelColumn
from logistics.exceptions.models import DeliveryException, ExceptionState
from logistics.models import EXCEPTION_PERMISSION

VIEW_PERMISSION = "logistics.view_deliveryexception"
PANEL_ROWS = 20


def sees_every_exception(user) -> bool:
    """Warehouse staff (who resolve them) and managers see every exception; sales those of their orders."""
    return user.has_perm(EXCEPTION_PERMISSION) or user.has_perm("orders.manage_all_salesorder")


def exceptions_visible(*, user) -> QuerySet[DeliveryException]:
    """The exceptions this user may read, with shipment, order and customer in the same query."""
    found = DeliveryException.objects.select_related("shipment__carrier", "order__customer", "resolved_by", "opened_by")
    if not user.has_perm(VIEW_PERMISSION):
        return found.none()
    if sees_every_exception(user):
        return found
    return found.filter(Q(order__created_by=user) | Q(order__customer__salesperson=user))


def exception_search(queryset: QuerySet[DeliveryException], text: str) -> QuerySet[DeliveryException]:
    """By shipment number, order number, customer name or a parcel's waybill number."""
    text = (text or "").strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(shipment__number__icontains=text)
        | Q(order__number__icontains=text)
        | Q(order__customer__name__icontains=text)
        | Q(shipment__parcels__waybill_number__icontains=text.upper())
    ).distinct()


def open_exceptions_for_tracking(*, order) -> dict[int, list[DeliveryException]]:
    """Open exceptions of the order's shipments, for the customer's tracking page."""
    found: dict[int, list[DeliveryException]] = {}
    for exception in DeliveryException.objects.filter(order=order, state=ExceptionState.OPEN).order_by("opened_at", "pk"):
        found.setdefault(exception.shipment_id, []).append(exception)
    return found


def home_queues(user) -> list[WorkQueue]:
    """Warehouse: open exceptions to resolve; sales: those on their orders; managers: escalated ones."""
    if not user.has_perm(VIEW_PERMISSION):
        return []
    url = reverse("logistics:exception_list")
    groups = user_roles(user)
    open_ = exceptions_visible(user=user).filter(state=ExceptionState.OPEN).order_by("opened_at", "pk")
    queues = []
    if WAREHOUSE in groups:
        queues.append(
            work_queue(
                title=gettext_lazy("Delivery exceptions"),
                url=f"{url}?state=open",
                queryset=open_,
                empty_text=gettext_lazy("No delivery exception is open."),
                role=WAREHOUSE,
            )
        )
    if SALES in groups and WAREHOUSE not in groups:
        queues.append(
            work_queue(
                title=gettext_lazy("Delivery exceptions on my orders"),
                url=f"{url}?state=open",
                queryset=open_,
                empty_text=gettext_lazy("None of your orders has a delivery exception."),
                role=SALES,
            )
        )
    if MANAGER in groups:
        queues.append(
            work_queue(
                title=gettext_lazy("Escalated delivery exceptions"),
                url=f"{url}?state=open&escalated=1",
                queryset=open_.filter(escalated_at__isnull=False),
                empty_text=gettext_lazy("No delivery exception is escalated."),
                role=MANAGER,
            )
        )
    return queues


def _panel(*, exceptions: list[DeliveryException], total: int, open_count: int) -> CustomerPanel:
    now = timezone.now()
    rows = [
        [
            PanelCell(exception.shipment.number, url=exception.get_absolute_url()),
            PanelCell(exception.get_kind_display()),
            PanelCell(exception.get_state_display(), badge=f"status status-exception-{exception.state}"),
            PanelCell(exception.order.number),
            PanelCell(f"{timezone.localtime(exception.since):%Y-%m-%d}"),
            PanelCell(
                exception.get_outcome_display()
                if exception.outcome
                else _("%(days)s days open") % {"days": (now - exception.opened_at).days}
            ),
        ]
        for exception in exceptions
    ]
    chips = [PanelCell(_("%(n)s open") % {"n": open_count}, badge="status status-exception")] if open_count else []
    return CustomerPanel(
        key="delivery-exceptions",
        title=_("Delivery exceptions"),
        count=total,
        chips=chips,
        columns=[
            PanelColumn(_("Shipment")),
            PanelColumn(_("Kind")),
            PanelColumn(_("State")),
            PanelColumn(_("Order")),
            PanelColumn(_("Since")),
            PanelColumn(_("Outcome")),
        ],
        rows=rows,
        empty_text=_("No delivery exception."),
        footnote=_("The latest %(shown)s are shown.") % {"shown": len(rows)} if total > len(rows) else "",
    )


def _panel_for(queryset: QuerySet[DeliveryException]) -> CustomerPanel | None:
    exceptions = list(queryset.order_by("-opened_at", "-pk")[:PANEL_ROWS])
    if not exceptions:
        return None  # the page stays quiet where nothing went wrong
    total = len(exceptions) if len(exceptions) < PANEL_ROWS else queryset.count()
    open_count = queryset.filter(state=ExceptionState.OPEN).count()
    return _panel(exceptions=exceptions, total=total, open_count=open_count)


def order_exceptions_panel(*, order, user) -> CustomerPanel | None:
    """The order page's delivery exceptions (only when it has any the user may see)."""
    return _panel_for(exceptions_visible(user=user).filter(order=order))


def customer_exceptions_panel(*, customer, user) -> CustomerPanel | None:
    """The customer page's delivery exceptions over all their orders (only when there are any the user may see)."""
    return _panel_for(exceptions_visible(user=user).filter(order__customer=customer))

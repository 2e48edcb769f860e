"""Returns on other pages: the order's and the customer's returns panels (named in settings), and
the warehouse's "returns to receive" home queue."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.home import WorkQueue, work_queue
from config.roles import WAREHOUSE, has_role
from customers.types import CustomerPanel, PanelCell, PanelColumn
from logistics.returns.models import ReturnRequest, ReturnState
from logistics.returns.selectors import order_may_return, returns_to_receive
from logistics.returns.services import return_may_open

VIEW_PERMISSION = "logistics.view_returnrequest"
RECENT_RETURNS = 20


def _columns(*, with_order: bool) -> list[PanelColumn]:
    columns = [PanelColumn(_("Number"))]
    if with_order:
        columns.append(PanelColumn(_("Order")))
    return [
        *columns,
        PanelColumn(_("State")),
        PanelColumn(_("Reason")),
        PanelColumn(_("Units"), numeric=True),
        PanelColumn(_("Opened")),
    ]


def _row(return_request: ReturnRequest, *, with_order: bool) -> list[PanelCell]:
    cells = [PanelCell(return_request.number, url=return_request.get_absolute_url())]
    if with_order:
        cells.append(PanelCell(return_request.order.number, url=return_request.order.get_absolute_url()))
    return [
        *cells,
        PanelCell(return_request.get_state_display(), badge=f"status status-{return_request.state}"),
        PanelCell(return_request.get_reason_display()),
        PanelCell(str(return_request.unit_count), numeric=True),
        PanelCell(f"{return_request.created_at:%Y-%m-%d}"),
    ]


def order_returns_panel(*, order, user) -> CustomerPanel | None:
    """The order's returns, and a link to open one while shipped units may still come back."""
    if not user.has_perm(VIEW_PERMISSION):
        return None
    returns = list(ReturnRequest.objects.filter(order=order).order_by("created_at", "pk"))
    chips = []
    if return_may_open(order=order, actor=user) and order_may_return(order):
        chips.append(PanelCell(_("Open a return"), url=reverse("logistics:return_create", args=[order.pk]), badge="button"))
    if not returns and not chips:
        return None
    return CustomerPanel(
        key="returns",
        title=_("Returns"),
        count=len(returns),
        chips=chips,
        columns=_columns(with_order=False),
        rows=[_row(r, with_order=False) for r in returns],
        empty_text=_("No return yet."),
    )


def customer_returns_panel(*, customer, user) -> CustomerPanel | None:
    """The customer's latest returns with their state (no section for a customer who never returned anything)."""
    if not user.has_perm(VIEW_PERMISSION):
        return None
    returns = ReturnRequest.objects.filter(order__customer=customer)
    recent = list(returns.select_related("order").order_by("-created_at", "-pk")[:RECENT_RETURNS])
    if not recent:
        return None
    total = len(recent) if len(recent) < RECENT_RETURNS else returns.count()
    return CustomerPanel(
        key="returns",
        title=_("Returns"),
        count=total,
        columns=_columns(with_order=True),
        rows=[_row(r, with_order=True) for r in recent],
        empty_text=_("No return yet."),
        footnote=_("The latest %(shown)s returns are shown.") % {"shown": len(recent)} if total > len(recent) else "",
    )


def home_queues(user) -> list[WorkQueue]:
    """Warehouse staff see the approved returns whose goods are on the way back."""
    if not has_role(user, WAREHOUSE) or not user.has_perm("logistics.receive_returnrequest"):
        return []
    return [
        work_queue(
            title=gettext_lazy("Returns to receive"),
            url=f"{reverse('logistics:return_list')}?state={ReturnState.APPROVED}",
            queryset=returns_to_receive(),
            empty_text=gettext_lazy("No approved return waits to be received."),
            role=WAREHOUSE,
        )
    ]

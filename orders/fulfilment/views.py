"""Fulfilment pages: the orders waiting for stock, and allocating them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from orders.models import SalesOrder

from .forms import AllocationFilter, AllocationRunForm
from .selectors import waiting_for_allocation
from .services import WAITING_FOR_STOCK, order_allocate, order_allocate_waiting

PAGE_SIZE = 25


@permission_required("orders.view_salesorder", raise_exception=True)
@require_GET
def allocation(request):
    """Approved and backordered orders, oldest approval first, with what is reserved and short."""
    filterset = AllocationFilter(request.GET, queryset=waiting_for_allocation())
    page_obj = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    may_allocate = request.user.has_perm("orders.allocate_salesorder")
    return render(
        request, "orders/allocation_list.html", {"filter": filterset, "page_obj": page_obj, "may_allocate": may_allocate}
    )


@permission_required("orders.allocate_salesorder", raise_exception=True)
@require_POST
def allocation_run(request):
    """Allocate one waiting order, or all of them (oldest approval first)."""
    form = AllocationRunForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors() or [_("Choose an order to allocate.")]:
            messages.error(request, error)
        return redirect("orders:allocation")
    if order_id := form.cleaned_data.get("order"):
        order = SalesOrder.objects.filter(pk=order_id).first()
        if order is None:
            messages.error(request, _("That order does not exist."))
            return redirect("orders:allocation")
        if order.status not in WAITING_FOR_STOCK:
            messages.warning(request, _("Order %(number)s is not waiting for stock.") % {"number": order.number})
            return redirect("orders:allocation")
        try:
            order = order_allocate(order=order, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Order %(number)s is now %(status)s.") % {"number": order.number, "status": order.get_status_display()}
            )
        return redirect("orders:allocation")
    run = order_allocate_waiting(by=request.user)
    messages.success(
        request,
        ngettext("%(n)s order allocated", "%(n)s orders allocated", len(run.allocated)) % {"n": len(run.allocated)}
        + ", "
        + ngettext("%(n)s backordered.", "%(n)s backordered.", len(run.backordered)) % {"n": len(run.backordered)},
    )
    for order, error in run.failed:
        messages.error(request, f"{order.number}: {error}")
    return redirect("orders:allocation")

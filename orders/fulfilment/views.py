"""Fulfilment pages: the orders waiting for stock, and allocating them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from config.pagination import CappedPaginator
from orders.models import SalesOrder

from .bulk import bulk_allocation_shown, bulk_allocation_stale, bulk_allocation_start
from .forms import AllocationFilter, AllocationRunForm
from .models import BulkAllocation
from .selectors import waiting_for_allocation
from .services import WAITING_FOR_STOCK, order_allocate
from .tasks import bulk_allocation_kick

PAGE_SIZE = 25


@permission_required("orders.view_salesorder", raise_exception=True)
@require_GET
def allocation(request):
    """Approved and backordered orders, oldest approval first, with what is reserved and short."""
    filterset = AllocationFilter(request.GET, queryset=waiting_for_allocation())
    page_obj = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    may_allocate = request.user.has_perm("orders.allocate_salesorder")
    context = {"filter": filterset, "page_obj": page_obj, "may_allocate": may_allocate, "bulk": bulk_allocation_shown()}
    return render(request, "orders/allocation_list.html", context)


@permission_required("orders.view_salesorder", raise_exception=True)
@require_GET
def allocation_progress(request, pk: int):
    """How far an "allocate all" run has got (the page polls this while it runs)."""
    bulk = get_object_or_404(BulkAllocation.objects.select_related("started_by"), pk=pk)
    return render(request, "orders/partials/allocation_progress.html", {"bulk": bulk})


@permission_required("orders.allocate_salesorder", raise_exception=True)
@require_POST
def allocation_run(request):
    """Allocate one waiting order, or start allocating all of them in the background (one run at a time)."""
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
    try:
        bulk, started = bulk_allocation_start(by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("orders:allocation")
    if started or bulk_allocation_stale(bulk):
        bulk_allocation_kick(bulk)
    if started:
        messages.success(
            request,
            ngettext(
                "Allocating %(n)s waiting order, oldest approval first.",
                "Allocating %(n)s waiting orders, oldest approval first.",
                bulk.total,
            )
            % {"n": bulk.total},
        )
    else:
        messages.info(request, _("Allocation of all waiting orders is already running; here is how far it has got."))
    return redirect("orders:allocation")

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from . import selectors


@permission_required("orders.view_salesorder", raise_exception=True)
def order_list(request):
    """All orders the user may see, newest first."""
    orders = selectors.order_list(filters=request.GET, user=request.user)
    page = Paginator(orders, 25).get_page(request.GET.get("page"))
    return render(request, "orders/salesorder_list.html", {"page_obj": page})

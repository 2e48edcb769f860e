from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from . import selectors


@permission_required("orders.review_salesorder", raise_exception=True)
def review_queue(request):
    """Orders in review, oldest first."""
    page = Paginator(selectors.review_queue(), 25).get_page(request.GET.get("page"))
    return render(request, "orders/salesorder_review_queue.html", {"page_obj": page})

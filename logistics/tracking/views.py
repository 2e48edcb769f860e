"""The customer's tracking page (/t/<token>/, no login): what of the order shipped, with whom, where it is.

Nothing else about the customer shows (no prices, no other orders); an unknown or revoked token is a
plain 404; each address may ask a limited number of pages a minute."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from config.login_throttle import client_ip
from logistics.exceptions.selectors import open_exceptions_for_tracking
from logistics.models import OrderTrackingToken, ShipmentState
from orders.models import SalesOrderLine

RATE_LIMIT_PER_MINUTE = 60


def _too_many(request: HttpRequest) -> bool:
    """A per-address counter in the cache, one per minute."""
    limit = getattr(settings, "TRACKING_PAGE_RATE_LIMIT", RATE_LIMIT_PER_MINUTE)
    key = f"tracking-page:{client_ip(request)}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=90)
        count = 1
    return count > limit


def tracking_page_data(token: str) -> dict:
    """What the page shows for a valid token; Http404 otherwise."""
    found = OrderTrackingToken.objects.select_related("order__customer").filter(token=token, revoked_at__isnull=True).first()
    if found is None:
        raise Http404
    order = found.order
    lines = list(SalesOrderLine.objects.filter(order=order).select_related("product").order_by("position", "pk"))
    shipments = list(
        order.shipments.exclude(
            state__in=[ShipmentState.DRAFT, ShipmentState.PICKING, ShipmentState.PACKED, ShipmentState.CANCELLED]
        )
        .select_related("carrier")
        .prefetch_related("parcels__carrier", "tracking_events")
        .order_by("shipped_at", "pk")
    )
    # An open delivery exception shows as a plain sentence on its shipment (never its notes).
    exceptions = open_exceptions_for_tracking(order=order)
    for shipment in shipments:
        shipment.customer_notices = [e.customer_text for e in exceptions.get(shipment.pk, [])]
    return {"order": order, "customer": order.customer, "lines": lines, "shipments": shipments}


@login_not_required
@never_cache
def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    """The public tracking page of one order, in the customer's language."""
    if _too_many(request):
        return HttpResponse(_("Too many requests; try again in a minute."), status=429, content_type="text/plain")
    try:
        data = tracking_page_data(token)
    except Http404:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    with translation.override(data["customer"].language or settings.LANGUAGE_CODE):
        response = render(request, "logistics/tracking_page.html", data)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response

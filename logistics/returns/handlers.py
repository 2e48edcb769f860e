"""Outbox handlers of returns: run after the receiving transaction committed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_noop

from config.notifications import notification_send
from config.roles import FINANCE
from logistics.returns.models import ReturnRequest


def tell_finance_refund_requested(payload: dict) -> None:
    """Finance sees in the app that a received return asks for a refund (billing handles the credit itself)."""
    return_request = ReturnRequest.objects.select_related("order__customer").filter(pk=payload["return_id"]).first()
    if return_request is None:
        return
    finance = get_user_model().objects.filter(groups__name=FINANCE, is_active=True).distinct().order_by("pk")
    notification_send(
        recipient_ids=[user.pk for user in finance],
        text=gettext_noop("Return %(number)s of order %(order)s (%(customer)s) asks for a refund."),
        params={
            "number": return_request.number,
            "order": return_request.order.number,
            "customer": return_request.order.customer.name,
        },
        url=reverse("logistics:return_detail", args=[return_request.pk]),
    )

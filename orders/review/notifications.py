"""Who hears about a review: reviewers when work lands in their queue, the salesperson when it is
decided, the customer when the order is confirmed.

In-app notifications are written inside the deciding transaction (they roll back with it) as a
source text and its figures, worded in each reader's language when read. E-mails are sent by the
outbox handlers after commit, so a mail server or broker that does not answer never undoes a
decision and never loses the e-mail. Staff e-mails are in the site's language, the customer's in
their own.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.notifications import notification_send
from config.roles import REVIEWER
from config.rows import row_get
from orders.models import OrderEvent, OrderStatus, SalesOrder, order_lines_with_products

from .rules import current_findings


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _order_path(order: SalesOrder) -> str:
    return order.get_absolute_url()


def _reviewers():
    return get_user_model().objects.filter(groups__name=REVIEWER, is_active=True).distinct().order_by("pk")


# --- in the deciding transaction ------------------------------------------------------------------


def notify_reviewers_order_in_review(*, order: SalesOrder) -> None:
    """Every active reviewer sees in the app that an order waits for them (the e-mail follows after commit)."""
    notification_send(
        recipient_ids=[user.pk for user in _reviewers()],
        text=gettext_noop("Order %(number)s of %(customer)s waits for review."),
        params={"number": order.number, "customer": order.customer.name},
        url=reverse("orders:review_queue"),
    )


def notify_salesperson_of_decision(*, order: SalesOrder, actor: Actor, note: str = "") -> None:
    """The salesperson who entered the order sees the reviewer's decision in the app (and by e-mail after commit)."""
    if order.status == OrderStatus.APPROVED:
        text = gettext_noop("Order %(number)s was approved by %(reviewer)s.")
    else:
        text = gettext_noop("Order %(number)s was rejected by %(reviewer)s: %(reason)s")
    notification_send(
        recipient_ids=[order.created_by_id],
        text=text,
        params={"number": order.number, "reviewer": actor.label(), "reason": note},
        url=_order_path(order),
    )


# Texts no longer sent but stored in older notifications, which are worded when read: kept in the catalogue.
RETIRED_TEXTS = (gettext_noop("Order %(number)s passed the automatic checks and is approved."),)


# --- the e-mails, sent by the outbox handlers -------------------------------------------------------


def _message(*, template: str, context: dict, to: list[str], html: bool = False) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"orders/email/{template}_subject.txt", context).split())
    body = render_to_string(f"orders/email/{template}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html:
        message.attach_alternative(render_to_string(f"orders/email/{template}.html", context), "text/html")
    return message


def email_review_request(*, order_id: int) -> int:
    """Email every reviewer with an address that the order waits in the queue; returns how many were sent."""
    order = SalesOrder.objects.select_related("customer", "created_by").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.IN_REVIEW:
        return 0  # already decided: no one needs to be called to it
    findings = list(current_findings().filter(order=order))
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "order": order,
            "findings": findings,
            "queue_url": _absolute(reverse("orders:review_queue")),
            "order_url": _absolute(_order_path(order)),
        }
        messages = [
            _message(template="review_request", context={**context, "recipient": user}, to=[user.email])
            for user in _reviewers().exclude(email="")
        ]
    if messages:
        mailers.default.send_messages(messages)
    return len(messages)


def email_review_decision(*, order_id: int) -> bool:
    """Email the salesperson the reviewer's decision and, for a rejection, the reason."""
    order = SalesOrder.objects.select_related("customer", "created_by").filter(pk=order_id).first()
    if order is None or not order.created_by.email:
        return False
    decision = (
        order.events.filter(
            kind=OrderEvent.Kind.TRANSITION,
            to_state__in=[OrderStatus.APPROVED, OrderStatus.REJECTED],
            from_state=OrderStatus.IN_REVIEW,
        )
        .select_related("by")
        .order_by("-at", "-pk")
        .first()
    )
    if decision is None:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        message = _message(
            template="review_decision",
            context={
                "order": order,
                "decision": decision,
                "approved": decision.to_state == OrderStatus.APPROVED,
                "order_url": _absolute(_order_path(order)),
            },
            to=[order.created_by.email],
        )
    mailers.default.send_messages([message])
    return True


def email_order_confirmation(*, order_id: int) -> bool:
    """Send the customer the confirmation of an approved order in their language, once; the timeline records it."""
    order = row_get(SalesOrder, order_id, related=("customer", "shipping_address"))
    if order is None or not order.customer.email or order.approved_at is None:
        return False
    # The confirmation of the approval is sent once: its e-mail event says it was.
    if order.events.filter(kind=OrderEvent.Kind.EMAIL, params__template="order_confirmation").exists():
        return False
    lines = order_lines_with_products(order)
    with translation.override(order.customer.language):
        message = _message(
            template="order_confirmation",
            context={"order": order, "customer": order.customer, "lines": lines},
            to=[order.customer.email],
            html=True,
        )
        mailers.default.send_messages([message])
    OrderEvent.record(
        order,
        kind=OrderEvent.Kind.EMAIL,
        actor=Actor.system("system"),
        params={"template": "order_confirmation", "email": order.customer.email},
    )
    return True

"""Outbox handlers of review: each takes the event's payload and is safe to run twice."""

from __future__ import annotations

from config.outbox import outbox_database_only

from . import notifications
from .services import order_run_checks


@outbox_database_only
def run_checks(payload: dict) -> None:
    """An order was submitted: run the automatic checks (an order no longer submitted is left alone)."""
    order_run_checks(order_id=payload["id"])


def ask_reviewers(payload: dict) -> None:
    """An order went to review: e-mail the reviewers (nothing once it is decided)."""
    notifications.email_review_request(order_id=payload["id"])


def tell_salesperson(payload: dict) -> None:
    """A reviewer decided: e-mail the salesperson the decision."""
    notifications.email_review_decision(order_id=payload["id"])


def confirm_to_customer(payload: dict) -> None:
    """The order is approved: e-mail the customer the confirmation, once."""
    notifications.email_order_confirmation(order_id=payload["id"])

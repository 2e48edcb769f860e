"""Celery adapters for orders: each takes an id, calls one function, and is safe to run twice."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from . import notifications
from .review import order_run_checks

# A mail server that does not answer is tried again later; the decision it reports is already committed.
MAIL_RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


@shared_task(name="orders.tasks.review_order", ignore_result=True)
def review_order(order_id: int) -> None:
    """Run the automatic checks on a submitted order; an order no longer submitted is left alone."""
    order_run_checks(order_id=order_id)


@shared_task(name="orders.tasks.send_review_request", ignore_result=True, **MAIL_RETRY)
def send_review_request(order_id: int) -> None:
    """Email the reviewers that an order waits for them (nothing once it is decided)."""
    notifications.email_review_request(order_id=order_id)


@shared_task(name="orders.tasks.send_review_decision", ignore_result=True, **MAIL_RETRY)
def send_review_decision(order_id: int) -> None:
    """Email the salesperson the reviewer's decision."""
    notifications.email_review_decision(order_id=order_id)


@shared_task(name="orders.tasks.send_order_confirmation", ignore_result=True, **MAIL_RETRY)
def send_order_confirmation(order_id: int) -> None:
    """Email the customer the confirmation of the approved order, once."""
    notifications.email_order_confirmation(order_id=order_id)

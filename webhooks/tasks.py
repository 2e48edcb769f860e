"""Celery adapters: beat runs the sender every few seconds; a recorded event asks for it at once."""

from __future__ import annotations

from celery import shared_task

from .delivery import webhooks_deliver_due
from .housekeeping import webhooks_forget_old


@shared_task(name="webhooks.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks() -> None:
    """Send the due deliveries (safe to run in many workers at once: rows are claimed with a lease)."""
    webhooks_deliver_due()


@shared_task(name="webhooks.tasks.forget_old_deliveries", ignore_result=True)
def forget_old_deliveries() -> None:
    webhooks_forget_old()

"""Low-stock alerts: raised when free stock falls below safety stock, resolved when it recovers,
emailed to the warehouse once; and the email that tells people the ledger check failed."""

from __future__ import annotations

from collections.abc import Iterable
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.outbox import outbox_publish
from config.roles import MANAGER, WAREHOUSE
from inventory.models import LedgerCheck, LowStockAlert, StockLevel


def low_stock_levels():
    """Stock rows of active warehouses whose free stock (on hand − reserved) is below safety stock."""
    return StockLevel.objects.filter(warehouse__is_active=True, on_hand__lt=F("reserved") + F("safety_stock"))


@transaction.atomic
def low_stock_refresh(*, level_ids: Iterable[int] | None = None) -> int:
    """Raise one open alert per low stock row (duplicates are ignored by the partial unique
    constraint) and resolve the open alerts of rows that recovered; None checks every row.
    Returns how many alerts are open and not yet emailed."""
    scope = StockLevel.objects.all()
    if level_ids is not None:
        scope = scope.filter(pk__in=list(level_ids))
    low = list(
        low_stock_levels()
        .filter(pk__in=scope.values("pk"))
        .order_by("product_id", "warehouse_id")
        .values_list("product_id", "warehouse_id", "on_hand", "reserved", "safety_stock")
    )
    _raise(low)
    same_row = scope.filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"))
    still_low = low_stock_levels().filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"))
    recovered = LowStockAlert.objects.filter(resolved_at__isnull=True).filter(Exists(same_row)).exclude(Exists(still_low))
    if level_ids is None:
        # A row that disappeared or whose warehouse closed no longer needs its alert either.
        recovered = LowStockAlert.objects.filter(resolved_at__isnull=True).exclude(Exists(still_low))
    recovered.update(resolved_at=timezone.now())
    pending = LowStockAlert.objects.filter(resolved_at__isnull=True, notified_at__isnull=True).count()
    if pending:
        transaction.on_commit(notify_low_stock_alerts.delay, robust=True)
    return pending


def _raise(low: list[tuple[int, int, int, int, int]]) -> None:
    """Open an alert for each low row (product, warehouse, on hand, reserved, safety stock) that has
    none open; the alerts this opened (rows already open are left alone) are news for whoever listens."""
    if not low:
        return
    # Sorted inserts: two transactions raising the same alerts wait for each other instead of deadlocking.
    raised_at = timezone.now()
    LowStockAlert.objects.bulk_create(
        [
            LowStockAlert(
                product_id=product_id,
                warehouse_id=warehouse_id,
                available=on_hand - reserved,
                safety_stock=safety,
                raised_at=raised_at,
            )
            for product_id, warehouse_id, on_hand, reserved, safety in sorted(low)
        ],
        ignore_conflicts=True,
    )
    opened = list(LowStockAlert.objects.filter(raised_at=raised_at, resolved_at__isnull=True).values_list("pk", flat=True))
    if opened:
        outbox_publish(topic="inventory.low_stock", payload={"alert_ids": opened})


def low_stock_raise(*, levels: Iterable[tuple[int, int, int, int, int]]) -> int:
    """Raise the alerts of stock rows the caller has locked and knows the figures of, given as
    (product_id, warehouse_id, on_hand, reserved, safety_stock) after its change. For changes that
    only lower free stock (a reservation): nothing can recover, and a row still above its safety
    stock costs no statement at all. Returns how many rows are low."""
    low = [(p, w, on_hand, reserved, safety) for p, w, on_hand, reserved, safety in levels if on_hand < reserved + safety]
    if low:
        _raise(low)
        transaction.on_commit(notify_low_stock_alerts.delay, robust=True)
    return len(low)


def _recipients(*roles: str) -> list[str]:
    users = get_user_model().objects.filter(groups__name__in=roles, is_active=True).exclude(email="").distinct()
    return sorted(set(users.values_list("email", flat=True)))


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def alerts_email_pending() -> int:
    """Email the warehouse the open alerts nobody was told about yet, once each; returns how many."""
    with transaction.atomic():
        alerts = list(
            LowStockAlert.objects.filter(resolved_at__isnull=True, notified_at__isnull=True)
            .select_related("product", "warehouse")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        if not alerts:
            return 0
        LowStockAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())
        recipients = _recipients(WAREHOUSE)
        if recipients:
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Low stock: %(count)s product(s) below safety stock") % {"count": len(alerts)}
                lines = [alert.queue_label for alert in alerts]
                body = "\n".join([*lines, "", _absolute(reverse("inventory:alert_list"))])
            message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
            # Sent inside the transaction: if the mail server fails, the alerts stay un-notified for a retry.
            mailers.default.send_messages([message])
    return len(alerts)


def ledger_check_email_failure(*, check_id: int) -> int:
    """Email managers and warehouse staff that the nightly ledger check found inconsistencies."""
    check = LedgerCheck.objects.filter(pk=check_id, ok=False).first()
    recipients = _recipients(MANAGER, WAREHOUSE)
    if check is None or not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Stock ledger check failed: %(count)s problem(s)") % {"count": len(check.problems)}
        lines = [
            _(
                "%(sku)s in %(warehouse)s: on hand %(on_hand)s, movements %(movements)s, reserved %(reserved)s, "
                "active reservations %(active)s"
            )
            % {
                "sku": p.get("sku"),
                "warehouse": p.get("warehouse"),
                "on_hand": p.get("on_hand", "–"),
                "movements": p.get("movements", "–"),
                "reserved": p.get("reserved", "–"),
                "active": p.get("active_reservations", "–"),
            }
            for p in check.problems
        ]
        body = "\n".join([*lines, "", _absolute(reverse("inventory:stock_overview"))])
    mailers.default.send_messages(
        [EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)]
    )
    return len(recipients)


# --- the Celery adapters of alerts (named inventory.tasks.* for beat and the queues) ---------------

MAIL_RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 1800, "max_retries": 8}


@shared_task(name="inventory.tasks.check_low_stock", ignore_result=True)
def check_low_stock(level_ids: list[int]) -> None:
    """After a movement or a reservation change: raise or resolve the alerts of these stock rows."""
    low_stock_refresh(level_ids=level_ids)


@shared_task(name="inventory.tasks.scan_low_stock", ignore_result=True)
def scan_low_stock() -> None:
    """Periodic safety net: compare every stock row with its safety stock."""
    low_stock_refresh(level_ids=None)


@shared_task(name="inventory.tasks.notify_low_stock_alerts", ignore_result=True, **MAIL_RETRY)
def notify_low_stock_alerts() -> None:
    """Email the warehouse the alerts raised since the last email."""
    alerts_email_pending()


@shared_task(name="inventory.tasks.send_ledger_check_failure", ignore_result=True, **MAIL_RETRY)
def send_ledger_check_failure(check_id: int) -> None:
    """Email managers and warehouse staff that the ledger check failed."""
    ledger_check_email_failure(check_id=check_id)

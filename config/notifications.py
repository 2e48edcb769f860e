"""In-app notifications: sending them, and each user's reads and writes of their own."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification

TEXT_MAX = Notification._meta.get_field("text").max_length
# The badge counts no further: counting every unread row on every page costs more than it says.
UNREAD_CAP = 99


def notification_send(
    *, recipient_ids: Iterable[int], text: str, params: dict | None = None, url: str = ""
) -> list[Notification]:
    """One notification per recipient, in the caller's transaction.

    `text` is the English source marked with gettext_noop, with %(name)s placeholders filled from
    `params` when each reader opens it, in their language; never pass already translated text.
    """
    params = {key: str(value) for key, value in (params or {}).items()}
    return Notification.objects.bulk_create(
        [Notification(recipient_id=pk, text=text[:TEXT_MAX], params=params, url=url) for pk in dict.fromkeys(recipient_ids)]
    )


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    notifications = Notification.objects.filter(recipient=user)
    return notifications.filter(read_at__isnull=True) if unread_only else notifications


def notification_unread_count(*, user) -> int:
    """Unread notifications of the user, counted up to UNREAD_CAP (the badge then reads "99+")."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[: UNREAD_CAP + 1].count()


def unread_badge(count: int) -> str:
    """How the header shows the count: nothing for none, the number, or "99+" past the cap."""
    if not count:
        return ""
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification | None:
    """A user marks one of their own notifications read; anyone else's is not found."""
    notification = Notification.objects.select_for_update().filter(recipient=user, pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    """A user marks every unread notification of theirs read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())

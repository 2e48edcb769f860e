from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the heartbeat task; one row per worker host name."""

    worker = models.CharField(_("worker"), max_length=200, unique=True)
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.worker} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


from .numbering import NumberSequence  # noqa: E402,F401  (the models live beside their functions)
from .outbox import OutboxEvent  # noqa: E402,F401
from .submissions import Submission  # noqa: E402,F401


class Notification(models.Model):
    """An in-app message to one user, with a link to what it is about."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    # The English source text (a msgid marked with gettext_noop) and its figures: worded when read,
    # in the reader's language. Rows from before `params` existed hold finished text.
    text = models.CharField(_("text"), max_length=300)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        # The header's unread badge on every page: a small index of only the unread rows.
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], name="notification_unread", condition=models.Q(read_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The notification in the active language."""
        from django.utils.translation import gettext

        worded = gettext(self.text)
        if not self.params:
            return worded
        try:
            return worded % self.params
        except (KeyError, TypeError, ValueError):
            return self.text % self.params


class UserPreference(models.Model):
    """What a user chose for themselves: the language they read the app in and are e-mailed in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=10)  # one of settings.LANGUAGES (config.preferences)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"

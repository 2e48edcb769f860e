"""Timelines: one event table per aggregate, all of this shape.

An event keeps what happened as data (kind, actor, from/to state, `params`) and `note`, which is
only ever what a person typed. The sentence is worded when it is shown, in the reader's language;
nothing translated is stored. Rows written before this shape existed keep their old text as note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .actors import SYSTEM_NAMES, Actor, actor_fields
from .rows import row_insert


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    CHANNEL = "channel", _("Channel")
    SYSTEM = "system", _("System")


class TimelineEvent(models.Model):
    """The common columns of every timeline table. Subclasses add the FK to their aggregate
    (named in SUBJECT_FIELD), their `Kind` choices and WORDING: kind → function(params) → str."""

    SUBJECT_FIELD: ClassVar[str] = ""
    STATES: ClassVar[dict[str, Any]] = {}  # state key → label, for from/to
    WORDING: ClassVar[dict[str, Callable[[dict], str]]] = {}

    kind = models.CharField(_("kind"), max_length=30)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices, default=ActorKind.USER)
    actor_name = models.CharField(_("actor name"), max_length=60, blank=True)
    from_state = models.CharField(_("from"), max_length=30, blank=True)
    to_state = models.CharField(_("to"), max_length=30, blank=True)
    params = models.JSONField(_("details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{getattr(self, self.SUBJECT_FIELD + '_id', '')} {self.kind} {self.from_state}->{self.to_state}"

    @classmethod
    def build(
        cls,
        subject: models.Model,
        *,
        kind: str,
        actor: Actor,
        note: str = "",
        params: dict | None = None,
        from_state: str = "",
        to_state: str = "",
        **extra: Any,
    ) -> TimelineEvent:
        """An unsaved event (for bulk_create)."""
        return cls(
            **{cls.SUBJECT_FIELD: subject},
            kind=kind,
            note=note or "",
            params=params or {},
            from_state=from_state or "",
            to_state=to_state or "",
            **actor_fields(Actor.of(actor)),
            **extra,
        )

    @classmethod
    def record(cls, subject: models.Model, **kwargs: Any) -> TimelineEvent:
        """Write one event about `subject` (same arguments as build)."""
        return row_insert(cls.build(subject, **kwargs))

    # --- reading -----------------------------------------------------------------------------
    @property
    def actor_label(self) -> str:
        """Who acted, in the reader's language."""
        if self.actor_kind == ActorKind.SYSTEM:
            return str(SYSTEM_NAMES.get(self.actor_name, self.actor_name))
        if self.by_id is not None:
            user = self.by
            return user.get_full_name() or user.get_username()
        return self.actor_name

    def _state_label(self, key: str) -> str:
        return str(self.STATES.get(key, key)) if key else ""

    @property
    def from_label(self) -> str:
        return self._state_label(self.from_state)

    @property
    def to_label(self) -> str:
        return self._state_label(self.to_state)

    @property
    def kind_label(self) -> str:
        choices = dict(self._meta.get_field("kind").flatchoices)
        return str(choices.get(self.kind, self.kind))

    @property
    def sentence(self) -> str:
        """What happened, worded now in the active language (empty for legacy rows and plain notes)."""
        wording = self.WORDING.get(self.kind)
        if wording is None or not self.params:
            return ""
        try:
            return str(wording(self.params))
        except (KeyError, TypeError, ValueError):
            return ""

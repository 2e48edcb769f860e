"""The one way a state machine moves: lock, check, transition, save, timeline, outbox."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from .actors import Actor
from .errors import DomainError, PermissionRefused
from .outbox import outbox_publish
from .rows import row_update


def transition_permission(obj: models.Model, method) -> Any:
    """The permission the transition declares from the object's current state (None: anyone)."""
    meta = method._django_fsm
    found = meta.get_transition(meta.field.get_state(obj))
    return found.permission if found is not None else None


def actor_may(obj: models.Model, method, actor: Actor) -> bool:
    """May this actor fire this transition (its declared permission), regardless of state?"""
    permission = transition_permission(obj, method)
    if permission is None or actor.is_system:
        return True
    if callable(permission):
        return bool(actor.user is not None and permission(obj, actor.user))
    return actor.has_perm(permission)


def allowed_transitions(obj: models.Model, actor: Actor | Any, names: list[str]) -> set[str]:
    """Which of these transitions the actor could fire now (state, conditions and permission):
    what templates use to decide which buttons to show."""
    actor = Actor.of(actor)
    allowed = set()
    for name in names:
        method = getattr(obj, name)
        if can_proceed(method) and actor_may(obj, method, actor):
            allowed.add(name)
    return allowed


def transition_refusal(obj: models.Model, method) -> str:
    """Why a transition cannot run now, for the user."""
    field = method._django_fsm.field
    state = field.get_state(obj)
    label = dict(field.flatchoices).get(state, state) if getattr(field, "flatchoices", None) else state
    explain = getattr(obj, "transition_problems", None)
    if can_proceed(method, check_conditions=False) and explain is not None:
        problems = explain(method.__name__)
        if problems:
            return " ".join(str(p) for p in problems)
    return _("%(object)s cannot do “%(action)s” while it is %(state)s.") % {
        "object": obj,
        "action": getattr(obj, "TRANSITION_LABELS", {}).get(method.__name__, method.__name__.replace("_", " ")),
        "state": label,
    }


def transition_apply(
    *,
    obj: models.Model,
    transition: str,
    actor: Actor | Any,
    note: str = "",
    params: dict | None = None,
    kind: str = "transition",
    lock: bool = True,
    update_fields: list[str] | None = None,
) -> models.Model:
    """Lock the row, check the transition (state, conditions) and the actor's permission, fire it,
    save, write the aggregate's timeline event and the outbox event. Returns the locked object.

    Runs inside the caller's transaction; `transition` is the method's name. The model names its
    timeline in `timeline_event_model` (a TimelineEvent subclass).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transitions run inside transaction.atomic()")
    actor = Actor.of(actor)
    model = type(obj)
    locked = model._default_manager.select_for_update(of=("self",)).get(pk=obj.pk) if lock else obj
    method = getattr(locked, transition)
    if not can_proceed(method):
        raise DomainError(transition_refusal(locked, method), code="transition_not_allowed")
    if not actor_may(locked, method, actor):
        raise PermissionRefused(_("You are not allowed to do that."))
    field = method._django_fsm.field
    from_state = field.get_state(locked)
    method()
    to_state = field.get_state(locked)
    if update_fields is not None:
        row_update(locked, [field.name, *update_fields])
    else:
        locked.save()
    event_model = getattr(locked, "timeline_event_model", None)
    if event_model is not None:
        event_model.record(locked, kind=kind, actor=actor, note=note, params=params, from_state=from_state, to_state=to_state)
    outbox_publish(
        topic=f"{model._meta.label_lower}.{transition}",
        payload={"id": locked.pk, "from": from_state, "to": to_state, **({"params": params} if params else {})},
    )
    return locked


def transitions_fire(*, objs: list[models.Model], transition: str, actor: Actor | Any) -> list[models.Model]:
    """transition_apply's checks and step for many rows at once, for models without a timeline
    (reservations): the caller has locked the rows (or is creating them) and saves them in bulk
    with the other columns it changed. State, conditions and the actor's permission are checked
    for every row before any is moved, so a refusal changes nothing."""
    actor = Actor.of(actor)
    methods = [getattr(obj, transition) for obj in objs]
    for obj, method in zip(objs, methods, strict=True):
        if not can_proceed(method):
            raise DomainError(transition_refusal(obj, method), code="transition_not_allowed")
        if not actor_may(obj, method, actor):
            raise PermissionRefused(_("You are not allowed to do that."))
        if getattr(obj, "timeline_event_model", None) is not None:
            raise TypeError(f"{type(obj).__name__} has a timeline: use transition_apply")
    for method in methods:
        method()
    return objs

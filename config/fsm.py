"""django-fsm-2's protected state fields made safe under threaded workers.

`FSMModelMixin.refresh_from_db` lets the reload write a protected state field by switching the
*field's* `protected` flag off and back on. The field is one object shared by every thread of the
process, so under threaded gunicorn workers one request switching it back on while another is
still reloading made that other reload fail ("Direct state modification is not allowed": a 500
on the complaint edit page, 50 of 240 requests). Here the switch is per thread: a reload running
in this thread may write the state; every other thread, and every direct assignment, stays refused.
"""

from __future__ import annotations

import threading

from django_fsm import FSMField, FSMFieldMixin, FSMModelMixin

_reloading = threading.local()


def _protected(field: FSMFieldMixin) -> bool:
    return bool(field.__dict__.get("protected", False)) and not getattr(_reloading, "depth", 0)


def _set_protected(field: FSMFieldMixin, value: bool) -> None:
    field.__dict__["protected"] = value


def _refresh_from_db(self, *args, **kwargs) -> None:
    """Reload the row; this thread alone may write the protected state fields meanwhile."""
    _reloading.depth = getattr(_reloading, "depth", 0) + 1
    try:
        super(FSMModelMixin, self).refresh_from_db(*args, **kwargs)
    finally:
        _reloading.depth -= 1


def make_fsm_refresh_thread_safe() -> None:
    """Install the per-thread switch (idempotent; called from ConfigConfig.ready)."""
    if isinstance(FSMFieldMixin.__dict__.get("protected"), property):
        return
    FSMFieldMixin.protected = property(_protected, _set_protected)
    FSMModelMixin.refresh_from_db = _refresh_from_db


class StateField(FSMField):
    """A state field: django-fsm-2's FSMField that migrations record as the plain CharField it is in the database.

    Every FSMField connects a receiver to `class_prepared` when it joins a model class, and the migration
    framework builds thousands of historical model classes while migrating: the receivers piled up and each new
    class called them all (a fresh `migrate` took about four minutes, three quarters of it there). Historical
    models need no transitions, so they get a CharField."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("protected", None)
        return name, "django.db.models.CharField", args, kwargs

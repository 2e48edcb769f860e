"""Field-level change records for the customer timeline: what is stored, and how it is shown."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _


def stored_value(instance: models.Model, field_name: str):
    """The value of one field as the timeline keeps it: JSON-safe, choice keys, related objects by name."""
    field = instance._meta.get_field(field_name)
    if field.is_relation:
        related = getattr(instance, field_name)
        return str(related) if related is not None else None
    value = getattr(instance, field.attname)
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def snapshot(instance: models.Model, field_names) -> dict:
    return {name: stored_value(instance, name) for name in field_names}


def diff(before: dict, after: dict) -> list[dict]:
    """[{"field", "old", "new"}] for each field whose stored value changed, in the order of `after`."""
    return [{"field": name, "old": before.get(name), "new": value} for name, value in after.items() if before.get(name) != value]


def _display_value(field, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = getattr(field, "flatchoices", None) if field is not None else None
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def display_change(model: type[models.Model], change: dict) -> dict:
    """One change with its field's translated label and choice labels instead of keys."""
    name = change.get("field", "")
    try:
        field = model._meta.get_field(name)
        label = str(field.verbose_name)
    except FieldDoesNotExist:
        field, label = None, name
    return {
        "field": name,
        "label": label,
        "old": _display_value(field, change.get("old")),
        "new": _display_value(field, change.get("new")),
    }

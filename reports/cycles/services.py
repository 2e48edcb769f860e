"""Writes of the cycle reports: the per-state limits of the orders at risk."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError

from .models import LIMITED_STATES, RiskLimits


@transaction.atomic
def risk_limits_update(*, values: dict, by) -> RiskLimits:
    """A manager sets how many hours an order may stay in each state (empty: no limit); the queue uses them at once."""
    actor = Actor.of(by)
    if not actor.has_perm("reports.change_risk_limits"):
        raise DomainError(_("You are not allowed to change the limits of the orders at risk."), code="permission_denied")
    RiskLimits.current()  # made with the defaults on first use
    limits = RiskLimits.objects.select_for_update().get(pk=1)
    for state in LIMITED_STATES:
        name = f"{state}_hours"
        if name in values:
            setattr(limits, name, values[name])
    limits.updated_by = actor.user_or_none
    limits.full_clean()
    limits.save()
    return limits

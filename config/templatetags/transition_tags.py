"""Templates ask the state machine which buttons to show: `{% may order "approve" as may_approve %}`."""

from __future__ import annotations

from django import template

from config.transitions import allowed_transitions

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, obj, transition: str) -> bool:
    """True when the signed-in user may fire this transition on the object now (state, conditions, permission)."""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if obj is None or user is None or not user.is_authenticated:
        return False
    return transition in allowed_transitions(obj, user, [transition])

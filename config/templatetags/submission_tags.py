"""`{% submission_token %}` inside a <form>: the hidden one-time token that lets the form act once."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from config.submissions import TOKEN_FIELD, submission_token_new

register = template.Library()


@register.simple_tag
def submission_token() -> str:
    """A hidden input with a fresh token; a second submit of the same rendered form replays the first."""
    return format_html('<input type="hidden" name="{}" value="{}">', TOKEN_FIELD, submission_token_new())

"""Helpers for posting forms that carry a one-time submission token (config.submissions)."""

from __future__ import annotations

import re

from config.submissions import TOKEN_FIELD, submission_token_new


def with_token(data: dict | None = None, token: str | None = None) -> dict:
    """The POST data with a fresh one-time token, as a freshly rendered form carries it."""
    return {**(data or {}), TOKEN_FIELD: token or submission_token_new()}


def token_in(response) -> str:
    """The one-time token the rendered form holds (the first one on the page)."""
    match = re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', response.content.decode())
    assert match, "the page has no submission token"
    return match.group(1)

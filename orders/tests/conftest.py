"""Fixtures for the order entry tests (opt-in, so the review tests are unaffected)."""

from __future__ import annotations

import pytest


@pytest.fixture
def fast_passwords(settings):
    """Test users get a cheap password hash: the real one costs half a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

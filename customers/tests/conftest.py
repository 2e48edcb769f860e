from __future__ import annotations

import pytest


@pytest.fixture
def staff(make_user):
    """A salesperson who does the work in service tests."""
    return make_user("sales")


@pytest.fixture
def finance(make_user):
    """Finance staff: they block and unblock customers."""
    return make_user("finance")

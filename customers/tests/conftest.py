from __future__ import annotations

import pytest


@pytest.fixture
def staff(make_user):
    """A salesperson who does the work in service tests."""
    return make_user("sales")

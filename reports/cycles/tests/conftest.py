from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _forget_cached_risk_limits():
    """The limits row is cached; a rolled-back test's row must not be the next test's."""
    from django.core.cache import cache

    from reports.cycles.models import RISK_LIMITS_CACHE_KEY

    cache.delete(RISK_LIMITS_CACHE_KEY)
    yield
    cache.delete(RISK_LIMITS_CACHE_KEY)

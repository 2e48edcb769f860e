"""Report tests move the clock: ledger rows take their time from timezone.now(), so a test can lay
down two weeks of movements and then ask what the snapshot says about each day."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone


class Clock:
    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch

    def set(self, day: date, hour: int = 12, minute: int = 0) -> datetime:
        """From now on it is `day` at `hour`:`minute`, business time."""
        moment = timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())
        self._monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)

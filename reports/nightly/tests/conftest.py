from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """The reports' files go to the test's own folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path

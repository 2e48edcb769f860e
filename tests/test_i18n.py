"""The zh-Hans catalogue is complete: every string in the code and templates is translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.po import problems, read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = ["config", "customers", "inventory", "orders", "logistics", "billing", "reports", "templates", "locale"]


def test_committed_catalogue_has_no_untranslated_or_fuzzy_entry():
    found = problems(read_po(CATALOGUE))
    assert not found, "\n".join(found[:50])


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_catalogue_covers_every_string_in_the_source(tmp_path):
    """Extract the strings afresh from a copy of the tree: nothing may come out untranslated."""
    for name in ["manage.py"]:
        shutil.copy(ROOT / name, tmp_path / name)
    for name in SOURCE_DIRS:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={**__import__("os").environ, "DATABASE_URL": ""},
    )
    found = problems(read_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert not found, "run `make messages` and translate:\n" + "\n".join(found[:50])


@pytest.mark.django_db
def test_switching_to_chinese_shows_chinese_labels(client_as):
    client = client_as("sales")
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    body = client.get(reverse("home")).content.decode()
    assert "订单" in body
    assert 'lang="zh-hans"' in body

"""The zh-Hans catalogue is complete: every string in the code and templates is translated."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from tests.po import problems, read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = [
    *["config", "customers", "inventory", "orders", "logistics", "billing", "api", "webhooks", "reports"],
    *["templates", "locale"],
]


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


# --- labels worded when shown ------------------------------------------------------------------------

OUR_APPS = ["config", "customers", "inventory", "orders", "logistics", "billing", "api", "webhooks", "reports"]
# A label needs no translation when it holds no word: a code, a grade, a currency ("A", "CNY", "13 %").
WORDLESS = re.compile(r"[A-Z0-9 .,:%+\-/()]*")


def _our_modules():
    """Import every module of our apps (tests, migrations and entry points aside), so their classes are known."""
    for app in OUR_APPS:
        if importlib.util.find_spec(app) is None:
            continue
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if re.search(r"\.(tests|migrations|management)(\.|$)|\.(wsgi|asgi)$", info.name):
                continue
            yield importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _flat(choices):
    for value, label in choices:
        if isinstance(label, (list, tuple)):  # a named group of choices
            yield from _flat(label)
        else:
            yield value, label


def _untranslated(where: str, choices) -> list[str]:
    return [
        f"{where}: {value!r} -> {label!r}"
        for value, label in _flat(choices)
        if not isinstance(label, Promise) and not WORDLESS.fullmatch(str(label))
    ]


def test_every_choice_label_goes_through_gettext():
    """Choice labels of models, TextChoices, forms and filters are lazy translations, so a Chinese page shows Chinese.

    A label made without gettext (or with gettext at import time) is English whatever the reader's language.
    """
    import django_filters
    from django import forms
    from django.apps import apps
    from django.db import models

    modules = {module.__name__ for module in _our_modules()}
    ours = lambda cls: cls.__module__ in modules  # noqa: E731
    problems = []
    for choices_class in filter(ours, _subclasses(models.Choices)):
        problems += _untranslated(choices_class.__qualname__, choices_class.choices)
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS:
            for field in model._meta.get_fields():
                if getattr(field, "choices", None):
                    problems += _untranslated(f"{model.__name__}.{field.name}", field.choices)
    for form_class in filter(ours, _subclasses(forms.BaseForm)):
        for name, field in getattr(form_class, "base_fields", {}).items():
            if (
                isinstance(field, forms.ChoiceField)
                and not isinstance(field, forms.ModelChoiceField)
                and not field.widget.is_hidden  # a hidden field's labels are never shown
            ):
                problems += _untranslated(f"{form_class.__qualname__}.{name}", field.choices)
    for filterset in filter(ours, _subclasses(django_filters.FilterSet)):
        for name, filter_ in filterset.base_filters.items():
            where = f"{filterset.__qualname__}.{name}"
            choices = filter_.extra.get("choices")
            if choices and not callable(choices):
                problems += _untranslated(where, choices)
            empty = filter_.extra.get("empty_label", "")
            if empty and not isinstance(empty, Promise):
                problems.append(f"{where}: empty label {empty!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_sort_menus_and_empty_choices_are_worded_in_the_readers_language():
    """django-filter words "Number (descending)" once, at import, in English; ours are worded when shown."""
    from django.db.models import fields

    from orders.entry.filters import OrderFilter

    sort = OrderFilter().form.fields["sort"]
    with translation.override("en"):
        english = dict(sort.choices)
        assert english["-number"] == "Number (descending)"
        assert str(fields.BLANK_CHOICE_LABEL) == "- Select an option -"
    with translation.override("zh-hans"):
        chinese = dict(sort.choices)
        assert "编号" in str(chinese["-number"])
        assert str(chinese["number"]) == "编号"
        assert str(sort.choices[0][1]) != "Newest first"

"""The architecture's rules that a linter does not see: checked over the source, so they cannot creep back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "customers", "inventory", "orders", "logistics", "billing", "api", "webhooks", "reports"]
# Importing inside a function is allowed only where Django asks for it (AppConfig.ready).
LOCAL_IMPORTS_ALLOWED = {("config/apps.py", "ready")}


def source_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).exists() else []:
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative:
                continue
            yield relative, path.read_text(encoding="utf-8")


def test_no_module_imports_project_code_inside_a_function():
    """Function-local imports of our own modules hid an import cycle; the apps depend one way now."""
    found = []
    for relative, text in source_files():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    module = inner.module or ""
                    ours = inner.level > 0 or module.split(".")[0] in APPS
                    if ours and (relative, node.name) not in LOCAL_IMPORTS_ALLOWED:
                        found.append(f"{relative}:{inner.lineno} in {node.name}(): from {'.' * inner.level}{module}")
    assert not found, "\n".join(found)


def test_no_state_is_assigned_outside_a_transition():
    """A status or state changes only in an @transition method fired through transition_apply."""
    assignment = re.compile(r"\.(status|state)\s*=(?!=)|\bupdate\([^)]*\b(status|state)\s*=")
    found = [
        f"{relative}:{number}: {line.strip()}"
        for relative, text in source_files()
        for number, line in enumerate(text.splitlines(), start=1)
        if assignment.search(line)
    ]
    assert not found, "\n".join(found)


def test_only_the_shared_mechanism_asks_the_state_machine_for_permission():
    """One permission guard for every FSM (transition_apply / allowed_transitions): no app checks a
    transition's permission its own way. Asking whether a state allows a step (can_proceed) is a read."""
    found = [
        relative
        for relative, text in source_files()
        if relative != "config/transitions.py" and re.search(r"\bhas_transition_perm\b", text)
    ]
    assert not found, found


@pytest.mark.django_db
def test_loading_the_url_modules_reads_nothing_from_the_database(django_assert_num_queries):
    """Class bodies and module tops must not query: `migrate` on a fresh database imports them first."""
    import importlib

    import orders.entry.filters

    with django_assert_num_queries(0):
        importlib.reload(orders.entry.filters)


def test_every_scheduled_task_is_registered_with_the_worker():
    """Beat sends tasks by name: a name no module registers is dropped by every worker, silently."""
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    missing = sorted(
        f"{entry_name}: {entry['task']}"
        for entry_name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    )
    assert not missing, missing


def test_every_scheduled_task_takes_the_arguments_its_entry_gives():
    """A beat entry's arguments that its task does not take fail in the worker at the scheduled hour, every night."""
    import inspect

    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    refused = []
    for entry_name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        try:
            inspect.signature(app.tasks[entry["task"]].run).bind(*entry.get("args", ()), **entry.get("kwargs", {}))
        except TypeError as error:
            refused.append(f"{entry_name}: {error}")
    assert not refused, refused
    assert settings.CELERY_BEAT_SCHEDULE["reports-stock-rebuild"]["kwargs"] == {"full": settings.REPORTS_NIGHTLY_FULL}

"""Project-wide test setup: PostgreSQL by default, eager Celery, role users, query counting."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TESTING", "1")


def pytest_configure(config):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if os.environ.get("REQUIRE_FULL_STACK") and not on_postgres:
        raise pytest.UsageError("REQUIRE_FULL_STACK is set but DATABASE_URL does not point at PostgreSQL")
    if not on_postgres and not os.environ.get("TEST_ALLOW_SQLITE"):
        # The ledger's triggers refuse the DELETEs with which Django empties SQLite between tests.
        raise pytest.UsageError(
            "The test suite runs on PostgreSQL: set DATABASE_URL, or start PostgreSQL on 127.0.0.1:5432 "
            "(make test finds it there). TEST_ALLOW_SQLITE=1 runs a subset on SQLite anyway."
        )


# The rows data migrations put in the database, by the migration and its function (each a get_or_create).
MIGRATION_SEEDS = [
    ("config.migrations.0002_roles", "create_roles"),
    ("logistics.migrations.0002_seed_carriers", "seed"),
    ("billing.migrations.0005_receivables", "seed_levels"),
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A test that commits (transaction=True) empties the database after itself, and with it the rows the data
    migrations made; a database kept for the next session (--reuse-db) would start without them. They are put
    back at the start of every session (nothing to do on a database just created)."""
    from importlib import import_module

    from django.apps import apps

    with django_db_blocker.unblock():
        for module, function in MIGRATION_SEEDS:
            getattr(import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run in the test's process; the worker test starts a real worker of its own."""
    from django.core.cache import cache

    from config.celery import app
    from orders.entry.filters import ORDER_AUTHORS_CACHE_KEY
    from orders.models import REVIEW_SETTINGS_CACHE_KEY
    from reports.dashboard.cache import GENERATION_KEY as DASHBOARD_CACHE_GENERATION

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    cache.delete(ORDER_AUTHORS_CACHE_KEY)  # who has entered orders: one test's answer is not the next one's
    cache.delete(REVIEW_SETTINGS_CACHE_KEY)  # the review settings row of a rolled-back test
    cache.delete(DASHBOARD_CACHE_GENERATION)  # the dashboard's cached figures and charts of an earlier test
    settings.LANGUAGE_CODE = "en"
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    yield


@pytest.fixture
def make_user(db):
    """make_user("sales") -> a user holding that role (and a known password: "pw")."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    counter = {"n": 0}

    def make(*roles: str, username: str | None = None, **extra):
        counter["n"] += 1
        User = get_user_model()
        user = User.objects.create_user(
            username=username or f"{'-'.join(roles) or 'nobody'}{counter['n']}", password="pw", **extra
        )
        user.groups.set(Group.objects.filter(name__in=roles))
        return User.objects.get(pk=user.pk)  # fresh: no cached permissions

    return make


@pytest.fixture
def client_as(client, make_user):
    """client_as("reviewer") -> a test client logged in as a new user with that role."""

    def login(*roles: str, **extra):
        user = make_user(*roles, **extra)
        client.force_login(user)
        client.user = user
        return client

    return login

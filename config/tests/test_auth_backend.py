"""The login backend reads a user's permissions in one statement and answers as Django's ModelBackend does."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.auth_backends import ModelBackendOneRead

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _answers(backend, user) -> tuple[set, set, set]:
    user = _fresh(user)
    return backend.get_user_permissions(user), backend.get_group_permissions(user), backend.get_all_permissions(user)


def test_same_permissions_as_djangos_backend_from_one_statement(make_user):
    user = make_user("sales", "warehouse")
    user.user_permissions.add(Permission.objects.get(codename="view_permission"))
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    own, groups, every = _answers(ModelBackendOneRead(), user)
    assert (own, groups, every) == _answers(ModelBackend(), user)
    assert own == {"auth.view_permission", "auth.add_group"}
    assert groups and every == own | groups
    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as captured:
        assert fresh.has_perm("orders.add_salesorder")
        assert not fresh.has_perm("auth.delete_user")
        assert fresh.has_perm("auth.add_group")
    assert len(captured.captured_queries) == 1


def test_a_permission_taken_away_counts_on_the_next_request(make_user):
    user = make_user("sales")
    assert _fresh(user).has_perm("orders.add_salesorder")
    sales = Group.objects.get(name="sales")
    sales.permissions.remove(Permission.objects.get(codename="add_salesorder", content_type__app_label="orders"))
    assert not _fresh(user).has_perm("orders.add_salesorder")


def test_inactive_anonymous_object_and_superuser_as_django(make_user):
    backend = ModelBackendOneRead()
    inactive = make_user("sales", is_active=False)
    assert backend.get_all_permissions(_fresh(inactive)) == set()
    active = make_user("sales")
    assert backend.get_all_permissions(_fresh(active), obj=object()) == set()
    boss = make_user(is_superuser=True)
    assert backend.get_all_permissions(_fresh(boss)) == ModelBackend().get_all_permissions(_fresh(boss))
    assert len(backend.get_all_permissions(_fresh(boss))) == Permission.objects.count()


def test_the_configured_backend_checks_pages(client_as):
    client = client_as("warehouse")
    assert client.get("/orders/new/").status_code == 403
    client = client_as("sales")
    assert client.get("/orders/new/").status_code == 200


def test_the_signed_in_user_is_read_as_djangos_backend_reads_it(make_user):
    user = make_user("sales")
    ours, django = ModelBackendOneRead(), ModelBackend()
    found = ours.get_user(user.pk)
    assert found is not None and found.pk == user.pk and found.username == django.get_user(user.pk).username
    assert ours.get_user(user.pk + 10_000) is None
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert ours.get_user(user.pk) is None and django.get_user(user.pk) is None  # a deactivated user is signed out


def test_a_session_is_read_back_and_an_expired_one_is_treated_as_missing(make_user):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from config.sessions import SessionStore

    store = SessionStore()
    store["cart"] = "三 items"
    store.save()
    key = store.session_key
    assert SessionStore(session_key=key)["cart"] == "三 items"
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session_key=key)
    assert expired.load() == {} and expired.session_key is None
    assert SessionStore(session_key="no-such-key").load() == {}

"""A user's roles are read once per request, however many home queues, panels and figures ask."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.roles import FINANCE, MANAGER, SALES, WAREHOUSE, has_role, user_roles

pytestmark = pytest.mark.django_db


def _role_reads(queries) -> int:
    return sum('"auth_group"."name"' in query["sql"] and 'FROM "auth_group"' in query["sql"] for query in queries)


def test_roles_are_read_once_per_user_object(make_user, django_assert_num_queries):
    user = make_user(SALES, FINANCE)
    with django_assert_num_queries(1):
        assert user_roles(user) == {SALES, FINANCE}
        assert has_role(user, FINANCE) and not has_role(user, WAREHOUSE)
        assert user_roles(user) == {SALES, FINANCE}


def test_anonymous_has_no_roles(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert user_roles(AnonymousUser()) == frozenset() and not has_role(AnonymousUser(), MANAGER)


def test_a_change_of_roles_shows_from_the_next_request(client, make_user):
    user = make_user(SALES)
    client.force_login(user)
    assert "Sales" in client.get(reverse("home")).content.decode()
    user.groups.add(Group.objects.get(name=WAREHOUSE))
    assert "Warehouse" in client.get(reverse("home")).content.decode()


def test_a_home_page_with_every_role_reads_the_roles_once(client, make_user):
    client.force_login(make_user(SALES, FINANCE, WAREHOUSE, MANAGER, "reviewer"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert _role_reads(captured.captured_queries) == 1

from __future__ import annotations

import pytest
from django.urls import reverse

from config.roles import FINANCE, MANAGER, REVIEWER, ROLE_PERMISSIONS, SALES, WAREHOUSE

pytestmark = pytest.mark.django_db

ALL_ROLES = [SALES, REVIEWER, WAREHOUSE, FINANCE, MANAGER]


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_with_wrong_password_shows_an_error(client, make_user):
    make_user(SALES, username="li")
    response = client.post(reverse("login"), {"username": "li", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_then_logout(client, make_user):
    make_user(SALES, username="li")
    response = client.post(reverse("login"), {"username": "li", "password": "pw"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_password_change(client, make_user):
    user = make_user(SALES)
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": "Qx7-long-enough-pass", "new_password2": "Qx7-long-enough-pass"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Qx7-long-enough-pass")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_has_a_home_with_its_queues(client_as, role):
    client = client_as(role)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    queues = response.context["queues"]
    assert queues, f"{role} has no work queue on the home page"
    assert all(q.role in (role, REVIEWER) for q in queues)
    body = response.content.decode()
    for queue in queues:
        assert str(queue.empty_text) in body  # nothing waits yet: each queue explains itself


def test_user_without_role_sees_how_to_get_one(client_as):
    response = client_as().get(reverse("home"))
    assert response.status_code == 200
    assert "Your account has no role" in response.content.decode()


def test_navigation_shows_only_what_the_role_may_open(client_as):
    body = client_as(SALES).get(reverse("home")).content.decode()
    assert reverse("orders:list") in body
    assert reverse("orders:review_queue") not in body


def test_sales_gets_403_on_reviewer_only_page(client_as):
    response = client_as(SALES).get(reverse("orders:review_queue"))
    assert response.status_code == 403
    assert "You do not have permission" in response.content.decode()


def test_reviewer_opens_review_queue(client_as):
    response = client_as(REVIEWER).get(reverse("orders:review_queue"))
    assert response.status_code == 200
    assert "The review queue is empty" in response.content.decode()


def test_every_role_permission_exists():
    """A typo in config.roles would silently give a role nothing; every name must be real."""
    from django.contrib.auth.models import Permission

    existing = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    for role, names in ROLE_PERMISSIONS.items():
        missing = sorted(set(names) - existing)
        assert not missing, f"{role}: {missing}"


def test_roles_hold_exactly_their_permissions():
    from django.contrib.auth.models import Group

    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(names), role


def test_unread_notifications_show_as_a_badge_in_the_header(client_as):
    from config.models import Notification

    client = client_as(SALES)
    body = client.get(reverse("home")).content.decode()
    assert 'class="badge badge-active"' not in body
    Notification.objects.create(recipient=client.user, text="Order SO-2026-000001 was approved", url="/")
    Notification.objects.create(recipient=client.user, text="Order SO-2026-000002 was rejected", url="/")
    body = client.get(reverse("home")).content.decode()
    assert '<span class="badge badge-active">2</span>' in body


def test_warehouse_home_lists_counts_in_progress_and_transfers_in_transit(client_as):
    body = client_as(WAREHOUSE).get(reverse("home")).content.decode()
    assert "Stock counts in progress" in body and "No stock count is open." in body
    assert "Transfers in transit" in body and "No transfer is on its way." in body


def test_only_the_most_specific_navigation_entry_is_active(client_as):
    from config.navigation import navigation_for

    user = client_as(SALES).user
    active = [item["url"] for item in navigation_for(user, reverse("orders:create")) if item["active"]]
    assert active == [reverse("orders:create")]
    active = [item["url"] for item in navigation_for(user, reverse("orders:list") + "12/") if item["active"]]
    assert active == [reverse("orders:list")]


def test_home_queue_lists_orders_with_their_customer_without_a_query_per_order(client_as):
    from orders.tests.factories import draft_order
    from tests.queries import queries_for

    client = client_as(SALES)
    draft_order(by=client.user)
    one = queries_for(lambda: client.get(reverse("home")))
    orders = [draft_order(by=client.user) for _ in range(3)]
    response = client.get(reverse("home"))
    assert f"{orders[-1].number} · {orders[-1].customer.name}" in response.content.decode()
    assert queries_for(lambda: client.get(reverse("home"))) == one


def test_a_nul_character_in_the_query_string_is_refused_with_400(client_as):
    client = client_as(SALES)
    response = client.get(reverse("orders:entry_customer_search"), {"q": "abc\x00def"})
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()

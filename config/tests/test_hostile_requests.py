"""Hostile requests: oversize bodies refused before they are read, log-in guessing locked out, private pages not cached."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.http_limits import PrivatePagesNoStoreMiddleware

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


# --- oversize bodies ------------------------------------------------------------------------------


class ExplodingStream(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readinto = read


def post_declaring(client, path: str, size: int):
    return client.generic(
        "POST",
        path,
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": ExplodingStream()},
    )


def test_a_huge_upload_is_refused_with_413_before_the_body_is_read(client_as):
    client = client_as("sales")
    response = post_declaring(client, reverse("customers:import"), 200 * 1024 * 1024)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "The request is too large (at most 6.0 MB)" in response.content.decode()


def test_a_huge_api_body_gets_a_json_413(client):
    response = post_declaring(client, "/api/orders/", 200 * 1024 * 1024)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and error["message"].startswith("The request is too large")


def test_the_limit_comes_from_the_settings(client_as, settings):
    settings.REQUEST_MAX_BODY_BYTES = 1024
    client = client_as("sales")
    response = client.post(reverse("customers:import"), {"file": io.BytesIO(b"name\n" + b"x" * 2000)})
    assert response.status_code == 413
    settings.REQUEST_MAX_BODY_BYTES = 6 * 1024 * 1024
    response = client.post(reverse("customers:import"), {"file": io.BytesIO(b"name\n" + b"x" * 2000)})
    assert response.status_code != 413


# --- log-in throttling ----------------------------------------------------------------------------


@pytest.fixture
def clerk(make_user):
    user = make_user("sales", username="wang.fang")
    user.set_password("the-right-one")
    user.save()
    return user


def attempt(path: str, username: str, password: str, ip: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_forty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(clerk, settings, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(40):
        response = attempt(LOGIN, "wang.fang", "guess")
        assert response.status_code in (200, 429)
    response = attempt(LOGIN, "wang.fang", "the-right-one")
    assert response.status_code == 429 and not logged_in(response)
    body = response.content.decode()
    assert "Too many failed log-in attempts" in body and "15 minutes" in body
    assert 'name="password"' in body, "the login page itself, with the message"
    # From another address the account is still locked.
    response = attempt(LOGIN, "wang.fang", "the-right-one", ip="10.9.9.9")
    assert response.status_code == 429 and not logged_in(response)
    messages = [r.getMessage() for r in caplog.records]
    assert any("AXES" in m and "wang.fang" in m and "10.0.0.1" in m for m in messages)
    assert not any("the-right-one" in m or "guess" in m for m in messages), "passwords never logged"
    assert any("lockout" in r.getMessage() for r in caplog.records if r.name == "config.security")


def test_the_lock_ends_after_the_cool_off(clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(LOGIN, "wang.fang", "guess")
    assert attempt(LOGIN, "wang.fang", "the-right-one").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert logged_in(attempt(LOGIN, "wang.fang", "the-right-one"))


def test_a_few_typos_do_not_lock_anyone_out(clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(LOGIN, "wang.fang", "typo").status_code == 200
    assert logged_in(attempt(LOGIN, "wang.fang", "the-right-one"))


def test_guessing_many_user_names_from_one_address_locks_the_address(clerk):
    for n in range(40):
        attempt(LOGIN, f"user{n}", "guess", ip="10.0.0.66")
    assert attempt(LOGIN, "wang.fang", "the-right-one", ip="10.0.0.66").status_code == 429
    assert logged_in(attempt(LOGIN, "wang.fang", "the-right-one", ip="10.0.0.67"))


def test_the_admin_login_is_throttled_too(make_user, settings):
    admin = make_user(username="root.admin", is_staff=True, is_superuser=True)
    admin.set_password("the-right-one")
    admin.save()
    for _ in range(40):
        attempt(ADMIN_LOGIN, "root.admin", "guess")
    response = attempt(ADMIN_LOGIN, "root.admin", "the-right-one")
    assert response.status_code == 429 and not logged_in(response)
    assert "Too many failed log-in attempts" in response.content.decode()


def test_the_lockout_message_is_translated(clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(LOGIN, "wang.fang", "guess")
    response = Client(REMOTE_ADDR="10.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        LOGIN, {"username": "wang.fang", "password": "the-right-one"}
    )
    assert response.status_code == 429
    assert 'lang="zh-hans"' in response.content.decode()


def test_force_login_is_not_throttled(client_as):
    client = client_as("sales")
    assert client.get(reverse("home")).status_code == 200


# --- caching of private pages ---------------------------------------------------------------------


def test_a_view_that_allows_caching_still_sends_no_store_to_a_signed_in_user(client_as, rf):
    request = rf.get("/customers/1/document.pdf")
    request.user = client_as("sales").user

    def view(_request):
        response = HttpResponse("customer data")
        response["Cache-Control"] = "max-age=3600"
        return response

    assert PrivatePagesNoStoreMiddleware(view)(request)["Cache-Control"] == "private, no-store"


def test_pages_for_a_signed_in_user_are_not_stored(client_as):
    client = client_as("sales")
    for url in (reverse("home"), reverse("customers:list"), reverse("orders:list")):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store", url


def test_the_health_check_static_files_and_anonymous_pages_are_left_alone(client_as):
    anonymous = Client()
    assert anonymous.get(LOGIN).get("Cache-Control") != "private, no-store"  # Django's own never_cache stays
    client = client_as("sales")
    assert client.get(reverse("healthz")).get("Cache-Control") == anonymous.get(reverse("healthz")).get("Cache-Control")
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")

"""Every page as every role: follow the links a user sees, then post nonsense to every form on
them. Nothing may answer with a server error."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command

from config.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

PAGES_PER_ROLE = 120
SKIP = ("/static/", "/admin/", "/accounts/logout/", "/i18n/", "/media/")
NONSENSE = ["", "-1", "abc", "99999999999999999999", "1e309", "<script>alert(1)</script>", "'; DROP TABLE x; --", "０.５", "\x00"]


class Forms(HTMLParser):
    """The POST forms of a page: their action and the names of their fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.endpoints: list[str] = []  # what scripts and htmx call: hx-get, hx-post, data-*-url
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.endpoints.extend(
            value
            for name, value in attrs.items()
            if value and (name in ("hx-get", "hx-post") or re.fullmatch(r"data-[a-z-]*url", name))
        )
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": []}
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea") and self._current is not None and attrs.get("name"):
            self._current["fields"].append((attrs["name"], attrs.get("type") or tag))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS if u[0] != "sales2"])
def test_no_page_or_form_answers_with_a_server_error(client, demo, username):
    from django.contrib.auth import get_user_model

    client.raise_request_exception = False
    client.force_login(get_user_model().objects.get(username=username))
    seen: set[str] = set()
    per_path: dict[str, int] = {}
    todo = ["/"]
    forms: dict[str, list] = {}
    endpoints: set[str] = set()
    failures = []
    while todo and len(seen) < PAGES_PER_ROLE:
        url = todo.pop(0)
        path = url.split("?")[0]
        if url in seen or per_path.get(path, 0) >= 2:
            continue
        seen.add(url)
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(("GET", url, response.status_code))
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = Forms()
        parser.feed(response.content.decode())
        for href in parser.links:
            if (target := _local(urljoin(url, href.replace("&amp;", "&")))) and target not in seen:
                todo.append(target)
        endpoints.update(filter(None, (_local(urljoin(url, e)) for e in parser.endpoints)))
        for form in parser.forms:
            action = _local(urljoin(url, form["action"] or url))
            if action and not re.search(r"/logout/|/i18n/", action):
                forms.setdefault(action.split("?")[0], form["fields"])
    for action, fields in forms.items():
        for value in NONSENSE:
            data = {name: value for name, kind in fields if kind not in ("submit", "button", "file", "hidden")}
            data.update({name: value for name, kind in fields if kind == "hidden" and not name.startswith("csrf")})
            response = client.post(action, data)
            if response.status_code >= 500:
                failures.append(("POST", action, value, response.status_code))
                break
    fields = {name: kind for form_fields in forms.values() for name, kind in form_fields}
    for endpoint in endpoints:
        for value in NONSENSE:
            for method in (client.get, client.post):
                response = method(endpoint, {name: value for name in [*fields, "q", "code", "scan_code", "op"]})
                if response.status_code >= 500:
                    failures.append((method.__name__.upper(), endpoint, value, response.status_code))
    assert len(seen) > 10, f"{username} reached only {len(seen)} pages"
    assert len(forms) >= 2, f"{username} found only the forms {sorted(forms)}"
    assert not failures, failures

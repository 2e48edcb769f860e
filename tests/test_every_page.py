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


class Crawl:
    """Follow the links a signed-in user sees, from home; remember the forms and script endpoints found on the way."""

    def __init__(self, client, limit: int = PAGES_PER_ROLE):
        self.client = client
        self.limit = limit
        self.seen: set[str] = set()
        self.forms: dict[str, list] = {}
        self.endpoints: set[str] = set()
        self.failures: list = []

    def pages(self, start: str = "/"):
        """Each HTML page reached, as (url, response); an answer of 500 or more is noted in failures."""
        per_path: dict[str, int] = {}
        todo = [start]
        while todo and len(self.seen) < self.limit:
            url = todo.pop(0)
            path = url.split("?")[0]
            if url in self.seen or per_path.get(path, 0) >= 2:
                continue
            self.seen.add(url)
            per_path[path] = per_path.get(path, 0) + 1
            response = self.client.get(url)
            if response.status_code >= 500:
                self.failures.append(("GET", url, response.status_code))
                continue
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            parser = Forms()
            parser.feed(response.content.decode())
            for href in parser.links:
                if (target := _local(urljoin(url, href.replace("&amp;", "&")))) and target not in self.seen:
                    todo.append(target)
            self.endpoints.update(filter(None, (_local(urljoin(url, e)) for e in parser.endpoints)))
            for form in parser.forms:
                action = _local(urljoin(url, form["action"] or url))
                if action and not re.search(r"/logout/|/i18n/", action):
                    self.forms.setdefault(action.split("?")[0], form["fields"])
            yield url, response


def _login(client, username):
    from django.contrib.auth import get_user_model

    client.raise_request_exception = False
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS if u[0] != "sales2"])
def test_no_page_or_form_answers_with_a_server_error(client, demo, username):
    crawl = Crawl(_login(client, username))
    for _page in crawl.pages():
        pass
    forms, failures = crawl.forms, crawl.failures
    for action, fields in forms.items():
        for value in NONSENSE:
            data = {name: value for name, kind in fields if kind not in ("submit", "button", "file", "hidden")}
            data.update({name: value for name, kind in fields if kind == "hidden" and not name.startswith("csrf")})
            response = client.post(action, data)
            if response.status_code >= 500:
                failures.append(("POST", action, value, response.status_code))
                break
    fields = {name: kind for form_fields in forms.values() for name, kind in form_fields}
    for endpoint in crawl.endpoints:
        for value in NONSENSE:
            for method in (client.get, client.post):
                response = method(endpoint, {name: value for name in [*fields, "q", "code", "scan_code", "op"]})
                if response.status_code >= 500:
                    failures.append((method.__name__.upper(), endpoint, value, response.status_code))
    assert len(crawl.seen) > 10, f"{username} reached only {len(crawl.seen)} pages"
    assert len(forms) >= 2, f"{username} found only the forms {sorted(forms)}"
    assert not failures, failures


# --- no English on a Chinese page -------------------------------------------------------------------

# Words and phrases of our English UI that must not reach a zh-Hans page. Data (names, SKUs, notes,
# e-mail addresses: whatever the database holds) is taken out of the text before looking.
ENGLISH_UI = re.compile(
    r"Select an option|\(descending\)|descending|ascending|Default order"
    r"|\b(?:Number|Status|Customers?|Orders?|Save|Cancel|Search|Next|Previous|Filter|Clear|Sort by|Any|All|Anyone"
    r"|Newest first|Home|Back|Submit|Edit|Delete|Approve|Reject|Total|Date|Warehouse|Products?|Stock|Quantity"
    r"|Sales|Review|Shipping|Finance|Reports|Settings|Menu|Notifications|Password|Log out|Language)\b"
    r"|\bNo [a-z]|\b[A-Za-z]+ of [a-z]+\b"
    r"|\b[A-Za-z][a-z]+ (?:[a-z]{2,} ){1,}[a-z]{2,}\b"  # three English words in a row: a sentence
)


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes, option labels, placeholders, titles, button values, confirmations."""

    HIDDEN = {"script", "style", "template", "textarea"}
    SPOKEN = ("placeholder", "title", "aria-label", "alt", "data-confirm")

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        self.chunks.extend(attrs[name] for name in self.SPOKEN if attrs.get(name))
        if tag == "input" and (attrs.get("type") or "") in ("submit", "button") and attrs.get("value"):
            self.chunks.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(" ".join(data.split()))


def _data_strings() -> list[str]:
    """Every text value the database holds (business data, not UI), longest first."""
    from django.apps import apps
    from django.db import models

    found: set[str] = set()

    def collect(value):
        if isinstance(value, str):
            for text in {value, *value.splitlines()}:
                text = " ".join(text.split())
                # A short plain word ("No", "All") could be data and UI alike: only longer values count as data.
                if len(text) >= 3 and (len(text) >= 6 or not text.isalpha() or not text.isascii()):
                    found.add(text)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for model in apps.get_models():
        if model._meta.app_label in ("contenttypes", "sessions", "admin") or model._meta.model_name in ("permission", "group"):
            continue
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)) and not field.choices
        ]
        if names:
            for row in model._default_manager.values_list(*names):
                for value in row:
                    collect(value)
    return sorted(found, key=len, reverse=True)


def english_leaks(html: str, data: list[str]) -> list[str]:
    """The pieces of a page's visible text that look like our English UI once data is taken out."""
    parser = VisibleText()
    parser.feed(html)
    leaks = []
    for chunk in parser.chunks:
        if not ENGLISH_UI.search(chunk):
            continue
        for value in data:
            if value in chunk:
                chunk = chunk.replace(value, " ")
        if ENGLISH_UI.search(chunk):
            leaks.append(chunk[:160])
    return leaks


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS if u[0] != "sales2"])
def test_chinese_pages_show_no_english_ui(client, demo, username):
    """Every page a role reaches, in zh-Hans: no sort label, empty choice, button or sentence left in English."""
    from django.conf import settings

    client = _login(client, username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    data = _data_strings()
    crawl = Crawl(client)
    pages = list(crawl.pages())
    # The error pages too, and what the page scripts load into them.
    for url in ["/no-such-page/", *sorted(crawl.endpoints)]:
        response = client.get(url)
        if "text/html" in response.get("Content-Type", "") and response.status_code in (200, 400, 403, 404):
            pages.append((url, response))
    leaks: dict[str, set[str]] = {}
    for url, response in pages:
        assert 'lang="zh-hans"' in response.content.decode() or url in crawl.endpoints, url
        for leak in english_leaks(response.content.decode(), data):
            leaks.setdefault(leak, set()).add(url.split("?")[0])
    report = [f"{leak!r} on {', '.join(sorted(urls)[:3])}" for leak, urls in sorted(leaks.items())]
    assert len(pages) > 10, f"{username} reached only {len(pages)} pages"
    assert not report, f"{len(report)} English strings on {username}'s Chinese pages:\n" + "\n".join(report)


def test_english_ui_is_found_on_a_chinese_page_and_data_is_not():
    html = (
        '<html lang="zh-hans"><head><title>订单</title><script>var Order = 1;</script></head><body>'
        '<select name="sort"><option value="number">编号</option><option value="-number">编号 (descending)</option></select>'
        '<select name="customer"><option value="">- Select an option -</option></select>'
        "<table><tr><td>Shanghai Huadong Trading Co., Ltd.</td><td>BAT-AA-8</td><td>5 号碱性电池 8 粒装</td></tr></table>"
        '<input type="submit" value="保存"><input type="search" placeholder="Number or customer">'
        '<textarea name="note">Call the customer before delivery</textarea>'
        '<form data-confirm="Really cancel this order?"></form><p>共 3 页</p></body></html>'
    )
    assert english_leaks(html, ["Shanghai Huadong Trading Co., Ltd.", "BAT-AA-8"]) == [
        "编号 (descending)",
        "- Select an option -",
        "Number or customer",
        "Really cancel this order?",
    ]

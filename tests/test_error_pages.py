"""The error pages: worded in the reader's language, and the 500 page needs nothing that may have failed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.views import server_error

pytestmark = pytest.mark.django_db


def test_the_server_error_page_needs_no_database_and_keeps_to_the_csp(rf, django_assert_num_queries):
    request = rf.get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body and "服务器出错" in body
    assert "style=" not in body and "<style" not in body  # the CSP refuses inline styles: the page uses app.css
    assert "/static/css/app.css" in body


@pytest.mark.parametrize(
    ("url", "status", "chinese"),
    [("/no-such-page/", 404, "页面不存在"), ("orders:review_settings", 403, "无权打开")],
)
def test_error_pages_speak_the_readers_language(client_as, url, status, chinese):
    client = client_as("sales")
    client.raise_request_exception = False
    client.cookies["django_language"] = "zh-hans"
    response = client.get(url if url.startswith("/") else reverse(url))
    assert response.status_code == status
    assert chinese in response.content.decode()

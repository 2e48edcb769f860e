"""Documents: rendered on the letterhead in the reader's language, never fetching from the network,
and a system check that says which package to install when no Chinese font is present."""

from __future__ import annotations

import pytest
from django.core import checks

from config import documents
from config.documents import DOCUMENT_BASE_URL, DocumentFetchRefused, document_url_fetcher, render_document_html, render_pdf


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/font.woff2",
        "file:///etc/passwd",
        "ftp://example.com/x.css",
        f"{DOCUMENT_BASE_URL}static/../../config/settings.py",
        f"{DOCUMENT_BASE_URL}media/upload.png",
    ],
)
def test_the_fetcher_refuses_the_network_files_and_anything_outside_our_static_files(url):
    with pytest.raises((DocumentFetchRefused, ValueError)):
        document_url_fetcher().fetch(url)


def test_the_fetcher_serves_data_uris_and_our_own_static_files():
    fetcher = document_url_fetcher()
    data = fetcher.fetch("data:text/plain;base64,5rWL6K+V")
    assert data.read().decode() == "测试"
    css = fetcher.fetch(f"{DOCUMENT_BASE_URL}static/css/app.css")
    assert css.content_type == "text/css" and css.read()


def test_an_http_image_in_a_document_is_not_fetched(monkeypatch, settings, tmp_path):
    """Rendering a document that names a remote image renders without it, and no request is made."""
    import socket

    attempts = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: attempts.append(args))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: attempts.append(args) or [])
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "remote.html").write_text(
        '{% extends "documents/base.html" %}{% block content %}<img src="http://example.com/x.png">中文{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    assert render_pdf("documents/remote.html", {}, "zh-hans").startswith(b"%PDF")
    assert attempts == []  # WeasyPrint swallows fetch errors, so the proof is that nothing was attempted


def test_documents_carry_the_letterhead_and_the_cjk_font_stack(settings):
    settings.COMPANY_NAME = "宁波示例贸易有限公司"
    settings.COMPANY_TAX_ID = "91330200MA2XXXXXXX"
    settings.COMPANY_BANK_NAME = "中国银行宁波分行"
    settings.COMPANY_BANK_ACCOUNT = "3512 0000 0000"
    html = render_document_html("documents/base.html", {}, "zh-hans")
    assert "宁波示例贸易有限公司" in html and "91330200MA2XXXXXXX" in html and "中国银行宁波分行" in html
    assert '"Noto Sans CJK SC"' in html and 'lang="zh-hans"' in html
    assert 'lang="en"' in render_document_html("documents/base.html", {}, "en")


def test_the_system_check_names_the_font_package_when_no_chinese_font_is_installed(monkeypatch):
    monkeypatch.setattr(documents, "cjk_fonts_installed", lambda: False)
    [warning] = documents.check_cjk_fonts()
    assert warning.id == "config.W001" and warning.level == checks.WARNING
    assert "fonts-noto-cjk" in warning.hint


def test_the_system_check_is_quiet_when_a_chinese_font_is_installed_or_fontconfig_is_absent(monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(documents, "cjk_fonts_installed", lambda: True)
        assert documents.check_cjk_fonts() == []
    monkeypatch.setattr(documents.shutil, "which", lambda name: None)
    assert documents.cjk_fonts_installed() is None and documents.check_cjk_fonts() == []


def test_the_check_is_registered():
    assert documents.check_cjk_fonts in checks.registry.registry.registered_checks

"""Documents: every PDF is rendered here, by WeasyPrint, from a template extending documents/base.html.

The base template carries the company letterhead (settings COMPANY_*) and a CJK font stack, so
Chinese names print without any web font. Rendering never reaches the network: the URL fetcher
serves data: URIs and our own static files, and refuses everything else (http, https, file, ftp).
WeasyPrint is imported only when a document is rendered (it is slow to load).
"""

from __future__ import annotations

import mimetypes
import shutil
import subprocess
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import checks
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import timezone, translation

# The origin documents are rendered against: relative links ("/static/...") resolve to it.
DOCUMENT_BASE_URL = "https://documents.invalid/"
CJK_FONT_PACKAGE = "fonts-noto-cjk"


class DocumentFetchRefused(ValueError):
    """A document asked for a resource that is neither a data: URI nor one of our static files."""


def static_file_for(url: str) -> str | None:
    """The path of our own static file a document URL names, or None when it names anything else."""
    parts = urlsplit(url)
    base = urlsplit(DOCUMENT_BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix) :])
    if not relative or relative.startswith("/") or ".." in relative.split("/"):
        return None
    try:
        return finders.find(relative)
    except SuspiciousFileOperation:
        return None


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class DocumentURLFetcher(URLFetcher):
        """data: URIs and our static files only; anything else is refused without a request."""

        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_for(url)
            if path is None:
                raise DocumentFetchRefused(f"documents may not fetch {url!r}: only data: URIs and our static files")
            with open(path, "rb") as source:
                body = source.read()
            mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": mime_type})

    return DocumentURLFetcher


def document_url_fetcher():
    """A WeasyPrint URL fetcher that never touches the network."""
    return _fetcher_class()(allowed_protocols={"data"}, allow_redirects=False)


def company_letterhead() -> dict[str, str]:
    """The company's details printed on every document (from settings, which read the environment)."""
    return {
        "name": settings.COMPANY_NAME,
        "address": settings.COMPANY_ADDRESS,
        "phone": settings.COMPANY_PHONE,
        "email": settings.COMPANY_EMAIL,
        "tax_id": settings.COMPANY_TAX_ID,
        "bank_name": settings.COMPANY_BANK_NAME,
        "bank_account": settings.COMPANY_BANK_ACCOUNT,
    }


def render_document_html(template: str, context: dict[str, Any], language: str | None = None) -> str:
    """The document's HTML in `language` (the site's language when None), letterhead included."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(template, {"company": company_letterhead(), "printed_at": timezone.localtime(), **context})


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of a document's HTML, rendered with the fetcher that refuses the network."""
    from weasyprint import HTML

    return HTML(string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=document_url_fetcher()).write_pdf()


def render_pdf(template: str, context: dict[str, Any], language: str | None = None) -> bytes:
    """Render a document template (extending documents/base.html) to PDF in the reader's language."""
    return html_to_pdf(render_document_html(template, context, language))


# --- system check -----------------------------------------------------------------------------


def cjk_fonts_installed() -> bool | None:
    """True when fontconfig knows a font covering Chinese, False when not, None when it cannot tell."""
    if not shutil.which("fc-list"):
        return None
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(found.stdout.strip())


def check_cjk_fonts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when no CJK font is installed: Chinese text in PDFs would print as empty boxes."""
    if cjk_fonts_installed() is not False:
        return []
    return [
        checks.Warning(
            "No font with Chinese characters is installed: Chinese text in PDF documents prints as empty boxes.",
            hint=f"Install the {CJK_FONT_PACKAGE} package (e.g. apt-get install {CJK_FONT_PACKAGE}), then restart.",
            id="config.W001",
        )
    ]

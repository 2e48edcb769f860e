"""Request and response rules for hostile or sensitive traffic: oversize bodies, caching of private pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger("config.security")

# Paths whose responses carry nothing private and may be cached as they say (static files, health).
CACHEABLE_PREFIXES = ("/healthz",)


def _max_body_bytes() -> int:
    return int(getattr(settings, "REQUEST_MAX_BODY_BYTES", 6 * 1024 * 1024))


class RequestBodyLimitMiddleware:
    """A request declaring a body larger than REQUEST_MAX_BODY_BYTES is refused with 413 before it is read.

    It must come before anything that reads the body (CSRF, sessions, views): Django would
    otherwise stream the whole upload to a temporary file before any form could refuse it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = _max_body_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            logger.warning("Refused a %s byte request body to %s (limit %s)", declared, request.path, limit)
            return too_large_response(request, limit=limit)
        return self.get_response(request)


def too_large_response(request, *, limit: int) -> HttpResponse:
    """413 in the reader's language: JSON for the API, a plain page for people."""
    with translation.override(translation.get_language_from_request(request)):
        message = _("The request is too large (at most %(mb)s MB). Send a smaller file.") % {
            "mb": round(limit / (1024 * 1024), 1)
        }
        title = _("Request too large")
    if request.path.startswith("/api/"):
        # The API's one error shape (api.errors), written out here: config never imports an app.
        response = JsonResponse({"error": {"code": "too_large", "message": message, "fields": {}, "lines": []}}, status=413)
    else:
        body = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
        )
        response = HttpResponse(body, status=413, content_type="text/html; charset=utf-8")
    # The client may still be sending: tell it the connection ends here, so the rest is not read.
    response["Connection"] = "close"
    return response


class PrivatePagesNoStoreMiddleware:
    """Responses to a signed-in user are `Cache-Control: private, no-store`: no proxy or browser keeps customer data.

    Static files (served before this runs) and the health check are left as they are; a view that
    already says no-store (Django's never_cache) keeps its own wording.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        if request.path.startswith(CACHEABLE_PREFIXES) or request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "private, no-store"
        return response

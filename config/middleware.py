"""Request checks that every view would otherwise repeat."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class RejectNullCharactersMiddleware:
    """A NUL character in the query string is refused with 400.

    No person types one, PostgreSQL cannot store or compare one, and the views that read a search
    term straight from the query string would otherwise fail with a server error. Posted forms
    keep their own, friendlier answer: Django's form fields refuse NUL with a field error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_null(request.GET):
            if request.path.startswith("/api/"):  # the API's one error shape (api.errors)
                message = _("The query string contains a NUL character.")
                return JsonResponse({"error": {"code": "invalid", "message": message, "fields": {}, "lines": []}}, status=400)
            return render(request, "400.html", status=400)
        return self.get_response(request)


def _has_null(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())

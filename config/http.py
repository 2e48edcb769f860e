"""Small HTTP helpers the views share."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request, candidate: str | None) -> str | None:
    """A "come back here" URL the user sent, if it stays on this site; otherwise None."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def redirect_back(request, fallback: str) -> HttpResponseRedirect:
    """Back to the POSTed `next` page when it is safe, else to `fallback` (a URL, never a view name)."""
    return HttpResponseRedirect(safe_next_url(request, request.POST.get("next")) or fallback)

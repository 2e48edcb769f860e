"""Log-in throttling (django-axes): what a locked-out person sees, on the app's and the admin's login page."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger("config.security")


def cool_off_minutes() -> int:
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the entry they appended."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or ""


def lockout_response(request, original_response=None, credentials=None):
    """Too many failed log-ins from this user name or address: the login page again, saying so (429)."""
    username = str((credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD, "") or request.POST.get("username", ""))[:150]
    logger.warning("Log-in refused during a lockout: user %r from %s", username, request.META.get("REMOTE_ADDR", ""))
    if minutes := cool_off_minutes():
        message = _(
            "Too many failed log-in attempts: logging in is blocked for %(minutes)s minutes. "
            "Wait, or ask an administrator to unlock the account."
        ) % {"minutes": minutes}
    else:
        message = _("Too many failed log-in attempts: logging in is blocked. Ask an administrator to unlock the account.")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "lockout_message": message, "next": request.POST.get("next", request.GET.get("next", ""))}
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)

"""Carrier push endpoints (no login, no CSRF: the signature is the authentication).

A bad or missing signature answers 401 and stores nothing; a malformed body 400 with a JSON error;
an unknown waybill 200 with its events kept aside (carriers retry on errors)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.errors import DomainError
from logistics.models import TrackingSource, TrackingStatus
from logistics.tracking.services import AFTERSHIP_TAGS, KUAIDI100_STATES, EventInput, tracking_record


class Malformed(ValueError):
    """The body is not what the carrier's format says."""


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also copes with non-ASCII garbage in the given signature."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _unauthorized() -> JsonResponse:
    return JsonResponse({"result": False, "returnCode": "401", "message": "bad signature"}, status=401)


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"result": False, "returnCode": "400", "message": message}, status=400)


def _parse_time(value) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise Malformed("event time missing")
    parsed = parse_datetime(value.strip())
    if parsed is None:
        raise Malformed(f"bad event time {value!r}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def kuaidi100_sign(param: str, salt: str) -> str:
    """Kuaidi100's signature: uppercase hex MD5 of the param text followed by the salt."""
    return hashlib.md5((param + salt).encode(), usedforsecurity=False).hexdigest().upper()


def aftership_sign(body: bytes, secret: str) -> str:
    """AfterShip's signature: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _kuaidi100_events(param: str) -> tuple[str, str, list[EventInput]]:
    try:
        data = json.loads(param)
        result = data["lastResult"]
        waybill = str(result["nu"])
        carrier = str(result.get("com") or "")
        state = str(result.get("state", ""))
        rows = result.get("data") or []
        if not isinstance(rows, list):
            raise Malformed("data is not a list")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Malformed(f"bad param: {exc}") from exc
    status = KUAIDI100_STATES.get(state)
    if status is None:
        raise Malformed(f"unknown state {state!r}")
    events = []
    # Kuaidi100 sends the newest event first; the state describes it, earlier ones carry their own
    # statusCode when the account sends one, otherwise they were in transit.
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Malformed("an event is not an object")
        own = KUAIDI100_STATES.get(str(row.get("statusCode", "")))
        events.append(
            EventInput(
                time=_parse_time(row.get("ftime") or row.get("time")),
                status=status if i == 0 else (own or TrackingStatus.IN_TRANSIT),
                description=str(row.get("context") or ""),
                location=str(row.get("areaName") or ""),
            )
        )
    return carrier, waybill, events


@csrf_exempt
@login_not_required
@require_POST
def kuaidi100_push(request: HttpRequest) -> JsonResponse:
    """Kuaidi100-style push: form fields `param` (JSON) and `sign`."""
    salt = getattr(settings, "KUAIDI100_SALT", "") or ""
    param = request.POST.get("param", "")
    sign = request.POST.get("sign", "")
    if not salt or not sign or not _same(kuaidi100_sign(param, salt), sign.strip().upper()):
        return _unauthorized()
    try:
        carrier, waybill, events = _kuaidi100_events(param)
        tracking_record(carrier_code=carrier, waybill=waybill, events=events, source=TrackingSource.KUAIDI100)
    except (Malformed, DomainError) as exc:
        return _bad_request(str(exc))
    return JsonResponse({"result": True, "returnCode": "200", "message": "ok"})


def _aftership_events(body: bytes) -> tuple[str, str, list[EventInput]]:
    try:
        data = json.loads(body)
        tracking = data["msg"]
        waybill = str(tracking["tracking_number"])
        carrier = str(tracking.get("slug") or "")
        checkpoints = tracking.get("checkpoints") or []
        if not isinstance(checkpoints, list):
            raise Malformed("checkpoints is not a list")
        events = []
        for point in checkpoints:
            tag = point.get("tag") or ""
            status = AFTERSHIP_TAGS.get(tag)
            if status is None:
                raise Malformed(f"unknown tag {tag!r}")
            events.append(
                EventInput(
                    time=_parse_time(point.get("checkpoint_time")),
                    status=status,
                    description=str(point.get("message") or ""),
                    location=str(point.get("location") or ""),
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Malformed(f"bad body: {exc}") from exc
    return carrier, waybill, events


@csrf_exempt
@login_not_required
@require_POST
def aftership_push(request: HttpRequest) -> JsonResponse:
    """AfterShip-style push: JSON body signed in the `aftership-hmac-sha256` header."""
    secret = getattr(settings, "AFTERSHIP_WEBHOOK_SECRET", "") or ""
    sign = request.headers.get("aftership-hmac-sha256", "")
    body = request.body
    if not secret or not sign or not _same(aftership_sign(body, secret), sign.strip()):
        return _unauthorized()
    try:
        carrier, waybill, events = _aftership_events(body)
        tracking_record(carrier_code=carrier, waybill=waybill, events=events, source=TrackingSource.AFTERSHIP)
    except (Malformed, DomainError) as exc:
        return _bad_request(str(exc))
    return JsonResponse({"result": True})

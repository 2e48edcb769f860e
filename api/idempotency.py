"""`Idempotency-Key` on POST: the same key and body replay the first answer; nothing is done twice.

The key's row is inserted in the request's own transaction, before the work, and gets the answer
before the commit: a key is either unknown or finished. A second request with the same key waits
on the unique index until the first one ends (at most API_IDEMPOTENCY_WAIT_SECONDS, then 409
"in flight"); when the first committed it replays its answer, when it rolled back (a crash, a
server error) the second one does the work itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.authentication import request_client
from api.errors import api_exception_handler, error_body
from api.models import IdempotencyKey
from config.errors import DomainError

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces: UUIDs, ULIDs, order ids
LOCK_NOT_AVAILABLE = "55P03"
REPLAYED_HEADER = "Idempotent-Replayed"


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


def request_fingerprint(request) -> str:
    """SHA-256 of method, path and body; a JSON body counts by its content, not its spacing or key order."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyTooLarge()
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except ValueError:
        canonical = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode("utf-8"), canonical):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


def _refusal(status_code: int, code: str, message: str) -> Response:
    return Response(error_body(code, message), status=status_code)


def _replay(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        return _refusal(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            _("This Idempotency-Key was used for a different request; use a new key for a new request."),
        )
    response = _json_response(row.response_status, row.response_body)
    response[REPLAYED_HEADER] = "true"
    return response


def _json_response(status_code: int, content: str) -> HttpResponse:
    return HttpResponse(content, status=status_code, content_type="application/json")


def _set_wait(seconds: float | None) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's IMMEDIATE transactions serialize writers at BEGIN: there is nothing to wait on here
    with connection.cursor() as cursor:
        if seconds is None:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        else:
            cursor.execute(f"SET LOCAL lock_timeout = {max(int(seconds * 1000), 1)}")


def _is_lock_timeout(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _as_stored(response: Response) -> tuple[int, str]:
    """The answer as it will be sent now and replayed later: status and the rendered JSON."""
    return response.status_code, JSONRenderer().render(response.data).decode("utf-8")


def _run(work: Callable[[], Response], context: dict) -> Response:
    """The work in a savepoint; a refusal (4xx) becomes its response, with the work rolled back."""
    try:
        with transaction.atomic():
            return work()
    except (DomainError, exceptions.APIException, Http404) as refused:
        response = api_exception_handler(refused, context)
        assert response is not None  # both kinds always have an answer
        return response


def idempotent(request, work: Callable[[], Response], *, view=None) -> Response:
    """Run `work` (the POST's business, returning a Response) at most once per client and key."""
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            return work()
    if not KEY_PATTERN.fullmatch(key):
        return _refusal(
            status.HTTP_400_BAD_REQUEST,
            "invalid_idempotency_key",
            _("The Idempotency-Key must be 1 to 255 printable ASCII characters without spaces."),
        )
    client = request_client(request)
    owner = {"client": client} if client is not None else {"client": None, "user": request.user}
    fingerprint = request_fingerprint(request)
    context = {"request": request, "view": view}
    with transaction.atomic():
        _set_wait(float(settings.API_IDEMPOTENCY_WAIT_SECONDS))
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    **owner,
                    key=key,
                    method=request.method,
                    path=request.path[:255],
                    request_hash=fingerprint,
                    response_status=0,
                    response_body="",
                )
        except IntegrityError:
            # Read committed: this statement sees the first request's row, committed while the INSERT waited.
            return _replay(IdempotencyKey.objects.get(**owner, key=key), fingerprint)
        except OperationalError as error:
            if not _is_lock_timeout(error):
                raise
            return _refusal(
                status.HTTP_409_CONFLICT,
                "idempotency_key_in_flight",
                _("A request with this Idempotency-Key is still being processed; try again in a moment."),
            )
        _set_wait(None)
        answer = _run(work, context)
        row.response_status, row.response_body = _as_stored(answer)
        row.save(update_fields=["response_status", "response_body"])
    response = _json_response(row.response_status, row.response_body)
    for header in ("Retry-After", "WWW-Authenticate"):
        if header in answer:
            response[header] = answer[header]
    return response

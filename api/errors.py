"""One JSON shape for every refused API request:

    {"error": {"code": "...", "message": "...", "fields": {"customer.code": ["..."]},
               "lines": [{"position": 2, "field": "sku", "message": "..."}], "params": {...}}}

`code` is stable, `message` is worded in the request's language, `fields` names body fields (dotted
for nested ones), `lines` the problems of order lines by position (1-based).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from config.errors import DomainError, PermissionRefused

# DomainError codes that answer something else than 422 (the request was understood but refused).
DOMAIN_STATUS = {
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "not_yours": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
    "duplicate_external_ref": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
    "stale": status.HTTP_409_CONFLICT,
}

# DRF's exceptions by our codes.
API_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
    lines: list[dict[str, Any]] | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message), "fields": fields or {}, "lines": lines or []}
    if params:
        body["params"] = {key: str(value) for key, value in params.items()}
    return {"error": body}


def error_json(status_code: int, code: str, message: str) -> JsonResponse:
    """The same shape outside DRF (unknown paths, middleware refusals)."""
    return JsonResponse(error_body(code, message), status=status_code)


def _messages(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value if not isinstance(item, dict | list)]
    return [str(value)]


def _flatten(detail: Any, prefix: str, fields: dict[str, list[str]], lines: list[dict[str, Any]]) -> None:
    """DRF's nested error detail as dotted field names, and `lines` items by position."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if name == "lines" and _is_per_item(value):
                _flatten_lines(value, lines)
            else:
                _flatten(value, name, fields, lines)
        return
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            if item:
                _flatten(item, f"{prefix}.{index}", fields, lines)
        return
    fields.setdefault(prefix or "non_field_errors", []).extend(_messages(detail))


def _is_per_item(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, int) or str(key).isdigit() for key in value)
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _flatten_lines(value: Any, lines: list[dict[str, Any]]) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for index, item in items:
        item_fields: dict[str, list[str]] = {}
        _flatten(item, "", item_fields, [])
        for field, messages in item_fields.items():
            for message in messages:
                lines.append(
                    {"position": int(index) + 1, "field": "" if field == "non_field_errors" else field, "message": message}
                )


def validation_error_body(detail: Any) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    lines: list[dict[str, Any]] = []
    _flatten(detail, "", fields, lines)
    return error_body("invalid", _("The request has errors: see fields and lines."), fields=fields, lines=lines)


def domain_error_response(exc: DomainError) -> Response:
    code = "permission_denied" if isinstance(exc, PermissionRefused) else exc.code
    status_code = DOMAIN_STATUS.get(code, status.HTTP_422_UNPROCESSABLE_ENTITY)
    lines = [item for item in exc.items if isinstance(item, dict)]
    fields = {exc.field: [exc.message]} if exc.field else {}
    return Response(error_body(code, exc.message, fields=fields, lines=lines, params=exc.params), status=status_code)


def api_exception_handler(exc: Exception, context: dict | None = None) -> Response | None:
    """DRF's exception handler: every refusal in the one shape; anything else stays a server error."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return Response(validation_error_body(exc.detail), status=status.HTTP_400_BAD_REQUEST)
    if not isinstance(exc, exceptions.APIException):
        return None
    code = next((name for kind, name in API_CODES.items() if isinstance(exc, kind)), exc.default_code)
    if getattr(exc, "detail", None) is not None and getattr(exc.detail, "code", None) == "token_revoked":
        code = "token_revoked"
    message = exc.detail if isinstance(exc.detail, str) else _("The request was refused.")
    response = Response(error_body(code, str(message)), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait) + 1)
    if auth_header := getattr(exc, "auth_header", None):  # DRF sets it on 401s: the Bearer challenge
        response["WWW-Authenticate"] = auth_header
    return response


# --- the shape for the OpenAPI document ---------------------------------------------------------


class ErrorLineSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The line's position in the request, from 1.")
    field = serializers.CharField(help_text="The line's field, or empty for the line as a whole.")
    message = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_authenticated, duplicate_external_ref, …")
    message = serializers.CharField(help_text="For people, in the request's language (Accept-Language).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages per body field (dotted when nested)."
    )
    lines = ErrorLineSerializer(many=True)
    params = serializers.DictField(child=serializers.CharField(), required=False, help_text="Figures of the refusal.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()

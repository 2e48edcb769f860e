"""One error for every refused business action: views show it, the API answers it as a 4xx."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused an action; `message` is already worded for the user who asked.

    `code` is stable (for the API and tests), `field` names the form field it belongs to,
    `params` carries the figures, `items` the per-row problems of a batch.
    """

    default_code = "refused"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        field: str | None = None,
        params: dict[str, Any] | None = None,
        items: list[Any] | None = None,
    ):
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.field = field
        self.params = params or {}
        self.items = items or []

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        """The JSON body the API answers with."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.params:
            body["params"] = {key: str(value) for key, value in self.params.items()}
        if self.items:
            body["items"] = [str(item) for item in self.items]
        return body


class StaleObject(DomainError):
    """Someone else saved the record after this user opened it."""

    default_code = "stale"


class PermissionRefused(DomainError):
    """The actor may not do this."""

    default_code = "permission_denied"


def form_error_from(form, exc: Exception) -> None:
    """Show a refused service call on the form: on its field when the form has one, else on top."""
    from django.core.exceptions import ValidationError

    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))

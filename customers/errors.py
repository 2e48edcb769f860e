from __future__ import annotations


class CustomerError(Exception):
    """A business rule refused a customer action; the message is shown to the user as is.

    `field` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

"""Logging filters that keep the log readable: a refused request is one line, not a traceback."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx answer (403, 404, 400) is the client's mistake or a refused permission: log one line, no traceback.

    Django's request logger attaches the exception that became the 4xx answer (PermissionDenied,
    Http404...) to the record; its traceback tells nothing an operator can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True

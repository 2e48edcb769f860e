"""The log stays readable: a refused request is one line, seeding the demo prints a short summary."""

from __future__ import annotations

import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.http import HttpResponse
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _console_handlers_reached_by(logger_name: str) -> list[logging.StreamHandler]:
    """The configured console handlers a record logged on this logger reaches (pytest's own left out)."""
    handlers = []
    logger = logging.getLogger(logger_name)
    while logger:
        handlers.extend(h for h in logger.handlers if type(h).__module__ == "logging" and isinstance(h, logging.StreamHandler))
        if not logger.propagate:
            break
        logger = logger.parent
    return handlers


def test_a_refused_page_logs_one_warning_line_without_traceback(client_as, caplog):
    client = client_as("sales")
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("orders:review_queue"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name.startswith("django")]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.WARNING, f"Forbidden (Permission denied): {reverse('orders:review_queue')}")
    ]
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text
    assert len(caplog.text.strip().splitlines()) == 1


def test_a_refused_page_is_printed_once_under_debug(client_as, settings):
    """Under DEBUG Django's own console handler used to print every request record a second time."""
    settings.DEBUG = True
    client = client_as("sales")
    client.raise_request_exception = False
    stream = io.StringIO()
    streams = [(handler, handler.setStream(stream)) for handler in _console_handlers_reached_by("django.request")]
    assert streams, "the request logger reaches no console handler"
    try:
        assert client.get(reverse("orders:review_queue")).status_code == 403
    finally:
        for handler, previous in streams:
            handler.setStream(previous)
    assert stream.getvalue().splitlines() == [f"Forbidden (Permission denied): {reverse('orders:review_queue')}"]


def test_a_server_error_keeps_its_traceback(rf, caplog):
    """Only 4xx answers lose the traceback: a 500 must still say where it broke."""
    from django.utils.log import log_response

    request = rf.get("/boom/")
    try:
        raise ValueError("boom")
    except ValueError as exc:
        response = HttpResponse(status=500)
        with caplog.at_level(logging.ERROR):
            log_response("Internal Server Error: %s", request.path, response=response, request=request, exception=exc)
    assert "Traceback" in caplog.text and "ValueError: boom" in caplog.text


@pytest.mark.django_db(transaction=True)  # real commits: the e-mails go out after each seeder's commit, as in a shell
def test_seeding_the_demo_prints_a_short_summary_and_no_email(settings, capsys):
    """With the console mail backend (no EMAIL_HOST) the demo's e-mails used to fill the console: 118 of them."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    mail.outbox = []
    call_command("seed_demo")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "Subject:" not in out
    assert 3 <= len(lines) <= 20, out
    assert lines[-1].endswith("Log in as sales / sales-demo (see README).")
    assert mail.outbox == []

"""One-time submission tokens: a form that creates or posts something acts at most once per token.

How a page uses it:
- the template puts `{% load submission_tags %}{% submission_token %}` inside the <form>: a hidden
  input `submission_token` with a fresh random token (each render gets a new one);
- the view is decorated with `@submitted_once("<app>.<action>")` (under its permission decorators).
  A view that renders a Django form passes `form=True` and checks the form with
  `submission_form_valid(request, form)` instead of `form.is_valid()`, so a missing or damaged token
  is a form error (400); a button-only view answers a 400 page.

What the decorator does with a POST: inside one transaction it INSERTs the token's `Submission` row
first (the token is unique), then runs the view. When the view redirects (it did its work), the row
keeps the redirect as the first result and commits with the business writes. When the view answers
anything else (a form error) or queued an error message (a refused action), everything is rolled
back and the token stays free. A second POST of the same token (a double click, a resubmit) does
not run the view: its INSERT waits on the unique index until the first transaction ends; if that
committed, it redirects to the first result with "This form was already submitted", and if it
rolled back, the second proceeds as if it were the first.

The API's Idempotency-Key (api.idempotency) works the same way with a table of its own, since it
also keeps the request's hash and the exact answer to replay: its row is written in the order's
transaction, and a retry waits on the unique index until the first request ends.
Tokens are kept KEEP_FOR (at least a day) and then deleted by the beat task below.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from functools import wraps

from celery import shared_task
from django.conf import settings
from django.contrib import messages
from django.db import connection, models, transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .rows import row_update

logger = logging.getLogger(__name__)

TOKEN_FIELD = "submission_token"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEEP_FOR = timedelta(hours=48)
REFUSED_TEMPLATE = "config/submission_refused.html"


class Submission(models.Model):
    """A one-time token that was used: who used it, for what, and the first result to replay."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    scope = models.CharField(_("scope"), max_length=100)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return f"{self.scope} {self.token[:8]}…"


class AlreadySubmitted(Exception):
    """The token was used before, by a transaction that committed; `submission` holds its first result."""

    def __init__(self, submission: Submission):
        super().__init__(submission.token)
        self.submission = submission


def submission_token_new() -> str:
    """A fresh random token for one form."""
    return secrets.token_urlsafe(32)


def submission_token_problem(token: str | None) -> str:
    """Why this posted token cannot be used ("" when it can): missing or not one we hand out."""
    if not token or not TOKEN_PATTERN.fullmatch(token):
        return gettext(
            "This form was not sent completely (its one-time token is missing or damaged). Reload the page and submit it again."
        )
    return ""


def submission_claim(*, token: str, scope: str, user) -> Submission:
    """Insert the token's row in the caller's transaction; a token already used raises AlreadySubmitted.

    A concurrent first use holds the unique index entry: this INSERT waits until that transaction
    ends, then inserts nothing (it committed: AlreadySubmitted) or inserts (it rolled back).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("submission_claim must run inside the business transaction (transaction.atomic)")
    user_id = getattr(user, "pk", None)
    now = timezone.now()
    # ON CONFLICT DO NOTHING instead of catching IntegrityError: no savepoint on every form post.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Submission._meta.db_table} (token, scope, user_id, created_at, result)"
            " VALUES (%s, %s, %s, %s, '{}'::jsonb) ON CONFLICT (token) DO NOTHING RETURNING id",
            [token, scope, user_id, now],
        )
        inserted = cursor.fetchone()
    if inserted is not None:
        return Submission(pk=inserted[0], token=token, scope=scope, user_id=user_id, created_at=now, result={})
    # Read committed: this new statement sees the first use, committed while the INSERT waited.
    first = Submission.objects.get(token=token)
    if first.scope != scope or first.user_id != user_id:
        raise DomainError(
            gettext("This form's one-time token belongs to another form. Reload the page and submit it again."), "token_reused"
        )
    raise AlreadySubmitted(first)


def submission_complete(submission: Submission, *, result: dict) -> None:
    """Keep what the first use answered, in the same transaction, so a repeat can replay it."""
    submission.result = result
    submission.completed_at = timezone.now()
    row_update(submission, ["result", "completed_at"])


def submissions_delete_expired(*, keep_for: timedelta = KEEP_FOR) -> int:
    """Forget tokens older than keep_for (at least a day: a resubmit within it still replays)."""
    deleted, _counts = Submission.objects.filter(created_at__lt=timezone.now() - max(keep_for, timedelta(days=1))).delete()
    return deleted


@shared_task(name="config.submissions.delete_expired_submissions", ignore_result=True)
def delete_expired_submissions() -> None:
    """Beat: delete the used tokens past their keeping time; safe to run any number of times."""
    deleted = submissions_delete_expired()
    if deleted:
        logger.info("deleted %s expired submission tokens", deleted)


def submission_form_valid(request, form) -> bool:
    """The form is valid and carries a usable token; a missing or damaged token is a form error."""
    valid = form.is_valid()
    if problem := submission_token_problem(request.POST.get(TOKEN_FIELD)):
        form.add_error(None, problem)
        return False
    return valid


def _replay(request, submission: Submission):
    """A repeated token: no work, back to where the first submit led, in the user's language."""
    messages.info(request, gettext("This form was already submitted; it was not processed again."))
    target = (submission.result or {}).get("redirect") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    return redirect(target)


def _refused(request, problem: str):
    return render(request, REFUSED_TEMPLATE, {"problem": problem}, status=400)


def _error_queued(request) -> bool:
    """The view refused the action with an error message (and redirected): nothing was done."""
    storage = getattr(request, "_messages", None)
    # Messages added during this request wait in _queued_messages until the response stores them.
    return any(message.level >= messages.ERROR for message in getattr(storage, "_queued_messages", []))


def submitted_once(scope: str, *, form: bool = False):
    """A POST of this view acts at most once per submission token; a repeat replays the first result."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            if problem := submission_token_problem(request.POST.get(TOKEN_FIELD)):
                if not form:
                    return _refused(request, problem)
                # The view shows the problem on its form (submission_form_valid); should it act
                # anyway, its work is rolled back and the request refused.
                with transaction.atomic():
                    response = view(request, *args, **kwargs)
                    transaction.set_rollback(True)
                if response.status_code in (301, 302, 303):
                    return _refused(request, problem)
                response.status_code = 400
                return response
            try:
                with transaction.atomic():
                    submission = submission_claim(token=request.POST[TOKEN_FIELD], scope=scope, user=request.user)
                    response = view(request, *args, **kwargs)
                    if response.status_code in (301, 302, 303) and not _error_queued(request):
                        submission_complete(submission, result={"redirect": response["Location"]})
                    else:
                        transaction.set_rollback(True)
                    return response
            except AlreadySubmitted as repeated:
                return _replay(request, repeated.submission)
            except DomainError as refused:
                return _refused(request, str(refused))

        return wrapped

    return decorate

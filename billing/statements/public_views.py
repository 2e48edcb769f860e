"""The customer's statement page (no login), reached by the link in the statement e-mail.

It shows that one statement and nothing else about the customer; the customer confirms or disputes
it once (a dispute with a comment). An unknown, revoked or withdrawn link is a plain 404; each
address may open a limited number of pages a minute."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing.statements.documents import statement_context
from billing.statements.forms import AnswerForm
from billing.statements.services import statement_for_token, statement_respond
from config.errors import DomainError
from config.login_throttle import client_ip

RATE_LIMIT_PER_MINUTE = 30


def _too_many(request: HttpRequest) -> bool:
    """A per-address counter in the cache, one per minute."""
    limit = getattr(settings, "STATEMENT_PAGE_RATE_LIMIT", RATE_LIMIT_PER_MINUTE)
    key = f"statement-page:{client_ip(request)}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=90)
        count = 1
    return count > limit


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def statement_public(request: HttpRequest, token: str) -> HttpResponse:
    """The statement in the customer's language, with Confirm and Dispute while it waits for an answer."""
    if _too_many(request):
        return HttpResponse(_("Too many requests; try again in a minute."), status=429, content_type="text/plain")
    statement = statement_for_token(token)
    if statement is None:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    with translation.override(statement.customer.language or settings.LANGUAGE_CODE):
        form = AnswerForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    statement_respond(token=token, answer=form.cleaned_data["answer"], comment=form.cleaned_data["comment"])
                except DomainError as error:
                    if error.code == "already_answered":
                        status = 409
                    if error.field in form.fields:
                        form.add_error(error.field, str(error))
                    else:
                        form.add_error(None, str(error))
                else:
                    return redirect(request.path)
            status = status if status != 200 else 422
            statement = statement_for_token(token) or statement
        context = {**statement_context(statement), "form": form, "answered": statement.responded_at is not None}
        response = render(request, "billing/statement_public.html", context, status=status)
    return _private(response)

"""The manager's pages for API clients: list, create (the token is shown once), detail and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api.forms import ApiClientFilter, ApiClientForm
from api.models import ApiClient
from api.scopes import SCOPES
from api.services import api_client_create, api_client_revoke
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once

PAGE_SIZE = 25
# The new token waits in the session only until the client's page shows it (once).
NEW_TOKEN_SESSION_KEY = "api_new_token"


@permission_required("api.view_apiclient", raise_exception=True)
def client_list(request):
    """Every client, active first, searchable by name or token start."""
    filterset = ApiClientFilter(
        request.GET, queryset=ApiClient.objects.select_related("created_by").order_by("revoked_at", "name")
    )
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "api/apiclient_list.html", {"filter": filterset, "page_obj": page})


@permission_required("api.add_apiclient", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("api.client_create", form=True)
def client_create(request):
    """A new client and its token; the token is shown on the next page, once."""
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            client, token = api_client_create(**form.cleaned_data, by=request.user)
        except DomainError as refused:
            form_error_from(form, refused)
        else:
            request.session[NEW_TOKEN_SESSION_KEY] = {"client": client.pk, "token": token}
            return redirect("api:client_detail", pk=client.pk)
    return render(request, "api/apiclient_form.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@permission_required("api.view_apiclient", raise_exception=True)
def client_detail(request, pk: int):
    """The client's channel, scopes and use; right after creation, its token (taken out of the session as it is shown)."""
    client = get_object_or_404(ApiClient.objects.select_related("created_by", "revoked_by"), pk=pk)
    new = request.session.get(NEW_TOKEN_SESSION_KEY)
    token = None
    if new and new.get("client") == client.pk:
        token = new["token"]
        del request.session[NEW_TOKEN_SESSION_KEY]
    scopes = [(scope, SCOPES[scope][0]) for scope in client.scopes if scope in SCOPES]
    return render(request, "api/apiclient_detail.html", {"client": client, "token": token, "scopes": scopes})


@permission_required("api.revoke_apiclient", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("api.client_revoke")
def client_revoke(request, pk: int):
    """Confirm, then the token stops working at once."""
    client = get_object_or_404(ApiClient, pk=pk)
    if request.method == "POST":
        try:
            api_client_revoke(client=client, by=request.user)
        except DomainError as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("The token of %(name)s was revoked: it no longer works.") % {"name": client.name})
        return redirect("api:client_detail", pk=client.pk)
    return render(request, "api/apiclient_revoke.html", {"client": client})

"""Managers' pages of outgoing webhooks: endpoints (list, create, edit, enable/disable, rotate the
secret, delete), their deliveries with every attempt, and replays. Each view parses, calls one
service, redirects."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once

from . import services
from .forms import DeliveryFilter, EndpointEditForm, EndpointFilter, EndpointForm
from .models import WebhookDelivery, WebhookEndpoint
from .selectors import delivery_attempts, delivery_counts, delivery_list, endpoint_list
from .topics import TOPIC_CHOICES

VIEW = "webhooks.view_webhookendpoint"
ADD = "webhooks.add_webhookendpoint"
CHANGE = "webhooks.change_webhookendpoint"
DELETE = "webhooks.delete_webhookendpoint"
REPLAY = "webhooks.replay_webhookendpoint"
PAGE_SIZE = 25
RECENT = 10


@permission_required(VIEW, raise_exception=True)
def endpoint_list_view(request):
    """The registered endpoints, newest first, searchable by URL, filtered by enabled."""
    filterset = EndpointFilter(request.GET, queryset=endpoint_list())
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/endpoint_list.html", {"filter": filterset, "page_obj": page})


@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("webhooks.endpoint_create", form=True)
def endpoint_create(request):
    """Register a receiver; its secret is generated and shown on the next page."""
    form = EndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if submission_form_valid(request, form):
            data = form.cleaned_data
            try:
                endpoint = services.endpoint_create(
                    url=data["url"],
                    topics=data["topics"],
                    description=data["description"],
                    enabled=data["enabled"],
                    by=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(
                    request, _("Endpoint registered. Give its secret to the receiver: it verifies each request with it.")
                )
                return redirect(endpoint)
        return render(request, "webhooks/endpoint_form.html", {"form": form}, status=422)
    return render(request, "webhooks/endpoint_form.html", {"form": form})


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)


@permission_required(VIEW, raise_exception=True)
def endpoint_detail(request, pk: int):
    """The endpoint: its settings, its secret (for those who may change it), counts and the latest deliveries."""
    endpoint = _endpoint(pk)
    context = {
        "endpoint": endpoint,
        "counts": delivery_counts(endpoint=endpoint),
        "recent": list(delivery_list(endpoint=endpoint)[:RECENT]),
        "show_secret": request.user.has_perm(CHANGE),
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk: int):
    endpoint = _endpoint(pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "topics": endpoint.topics}
    form = EndpointEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.endpoint_update(
                    endpoint=endpoint, url=data["url"], topics=data["topics"], description=data["description"], by=request.user
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect(endpoint)
        return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}, status=422)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@permission_required(CHANGE, raise_exception=True)
@require_POST
def endpoint_enable(request, pk: int):
    endpoint = _endpoint(pk)
    try:
        services.endpoint_enable(endpoint=endpoint, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Endpoint enabled: what waits for it is sent now, in order."))
    return redirect(endpoint)


@permission_required(CHANGE, raise_exception=True)
@require_POST
def endpoint_disable(request, pk: int):
    endpoint = _endpoint(pk)
    try:
        services.endpoint_disable(endpoint=endpoint, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Endpoint disabled: nothing is sent to it until it is enabled again."))
    return redirect(endpoint)


@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("webhooks.endpoint_rotate_secret")
def endpoint_rotate_secret(request, pk: int):
    """Confirm, then give the endpoint a new secret (the old one still signs for a grace period)."""
    endpoint = _endpoint(pk)
    if request.method == "POST":
        try:
            services.endpoint_rotate_secret(endpoint=endpoint, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("New secret made. Requests carry both signatures until the old secret expires."))
        return redirect(endpoint)
    return render(
        request, "webhooks/endpoint_rotate.html", {"endpoint": endpoint, "grace_hours": settings.WEBHOOKS_SECRET_GRACE_HOURS}
    )


@permission_required(DELETE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, pk: int):
    """Confirm, then delete the endpoint with its delivery log."""
    endpoint = _endpoint(pk)
    if request.method == "POST":
        try:
            services.endpoint_delete(endpoint=endpoint, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect(endpoint)
        messages.success(request, _("Endpoint %(url)s deleted.") % {"url": endpoint.url})
        return redirect("webhooks:endpoint_list")
    return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint, "counts": delivery_counts(endpoint=endpoint)})


@permission_required(VIEW, raise_exception=True)
def delivery_list_view(request, pk: int):
    """The endpoint's deliveries, newest first, filtered by status, topic or subject."""
    endpoint = _endpoint(pk)
    filterset = DeliveryFilter(request.GET, queryset=delivery_list(endpoint=endpoint))
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"endpoint": endpoint, "filter": filterset, "page_obj": page, "counts": delivery_counts(endpoint=endpoint)}
    return render(request, "webhooks/delivery_list.html", context)


def _delivery(pk: int) -> WebhookDelivery:
    return get_object_or_404(WebhookDelivery.objects.select_related("endpoint", "message"), pk=pk)


@permission_required(VIEW, raise_exception=True)
def delivery_detail(request, pk: int):
    """One delivery: the event's id, sequence and body, and every attempt with what the receiver answered."""
    delivery = _delivery(pk)
    context = {
        "delivery": delivery,
        "endpoint": delivery.endpoint,
        "attempts": list(delivery_attempts(delivery=delivery)),
        "topics": dict(TOPIC_CHOICES),
    }
    return render(request, "webhooks/delivery_detail.html", context)


@permission_required(REPLAY, raise_exception=True)
@require_POST
def delivery_replay(request, pk: int):
    """Send the delivery again: the same id and body, so the receiver can tell it already has it."""
    delivery = _delivery(pk)
    try:
        services.delivery_replay(delivery=delivery, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The delivery is sent again (same id)."))
    return redirect(reverse("webhooks:delivery_detail", args=[delivery.pk]))


@permission_required(REPLAY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def endpoint_replay_failed(request, pk: int):
    """Confirm, then send every given-up delivery of the endpoint again."""
    endpoint = _endpoint(pk)
    if request.method == "POST":
        try:
            count = services.endpoint_replay_failed(endpoint=endpoint, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            if count:
                messages.success(
                    request,
                    ngettext("%(count)s failed delivery is sent again.", "%(count)s failed deliveries are sent again.", count)
                    % {"count": count},
                )
            else:
                messages.info(request, _("No failed delivery to send again."))
        return redirect("webhooks:delivery_list", pk=endpoint.pk)
    return render(
        request, "webhooks/endpoint_replay_failed.html", {"endpoint": endpoint, "counts": delivery_counts(endpoint=endpoint)}
    )

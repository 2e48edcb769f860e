"""Complaint pages: the team's list, opening one, editing it and moving it along its states."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from config.actors import Actor
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import actor_may, allowed_transitions

from . import selectors, services
from .forms import ComplaintForm, ComplaintTransitionForm
from .models import Complaint, Customer
from .views import PAGE_SIZE

# The buttons of a complaint, in the order they are offered.
ACTIONS = [
    ("start", "primary"),
    ("resolve", "primary"),
    ("close", ""),
    ("reopen", ""),
]


@permission_required("customers.view_complaint", raise_exception=True)
def complaint_list(request):
    """Complaints for the team, filtered by status, assignee, category, customer; "assigned to me"."""
    filterset = selectors.complaint_list(filters=request.GET, user=request.user)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    customer = None
    if filterset.form.is_valid() and filterset.form.cleaned_data.get("customer"):
        customer = Customer.objects.filter(pk=filterset.form.cleaned_data["customer"]).first()
    context = {"filter": filterset, "page_obj": page, "customer": customer}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/complaint_list.html#results", context)
    return render(request, "customers/complaint_list.html", context)


@permission_required("customers.add_complaint", raise_exception=True)
def complaint_pick_customer(request):
    """Before opening a complaint from the list: find the customer it is about."""
    query = (request.GET.get("q") or "")[:100]
    customers = selectors.customer_search(query=query, limit=20) if query.strip() else []
    return render(request, "customers/complaint_pick_customer.html", {"query": query, "customers": customers})


@permission_required("customers.add_complaint", raise_exception=True)
@submitted_once("complaints.create", form=True)
def complaint_create(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    initial = {}
    if order_id := request.GET.get("order"):
        initial["order"] = order_id if order_id.isdigit() else None
    form = ComplaintForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            complaint = services.complaint_create(customer=customer, data=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Complaint %(number)s was opened.") % {"number": complaint.number})
            return redirect(complaint)
    return render(
        request, "customers/complaint_form.html", {"form": form, "customer": customer}, status=400 if form.errors else 200
    )


@permission_required("customers.change_complaint", raise_exception=True)
def complaint_edit(request, pk: int):
    complaint = get_object_or_404(Complaint.objects.select_related("customer"), pk=pk)
    if not complaint.is_editable:
        messages.error(request, _("A closed complaint cannot be edited. Reopen it first."))
        return redirect(complaint)
    form = ComplaintForm(request.POST or None, instance=complaint, customer=complaint.customer)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_update(complaint=complaint, data=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Complaint %(number)s was saved.") % {"number": complaint.number})
            return redirect(complaint)
    complaint.refresh_from_db()
    return render(
        request,
        "customers/complaint_form.html",
        {"form": form, "customer": complaint.customer, "complaint": complaint},
        status=400 if form.errors else 200,
    )


def _offered_actions(complaint: Complaint, user) -> list[dict]:
    """The next steps this user may take now, as the state machine says."""
    actor = Actor.of(user)
    allowed = allowed_transitions(complaint, actor, [action for action, _style in ACTIONS])
    # Resolve is offered before the resolution is written: the form beside the button asks for it.
    if can_proceed(complaint.resolve, check_conditions=False) and actor_may(complaint, complaint.resolve, actor):
        allowed.add("resolve")
    labels = {"start": _("Start work"), "resolve": _("Resolve"), "close": _("Close"), "reopen": _("Reopen")}
    return [{"action": action, "label": labels[action], "style": style} for action, style in ACTIONS if action in allowed]


@permission_required("customers.view_complaint", raise_exception=True)
def complaint_detail(request, pk: int, form: ComplaintTransitionForm | None = None, status: int = 200):
    complaint = get_object_or_404(Complaint.objects.select_related("customer", "order", "assignee", "created_by"), pk=pk)
    events = complaint.events.select_related("by", "complaint").order_by("-at", "-pk")
    return render(
        request,
        "customers/complaint_detail.html",
        {
            "complaint": complaint,
            "events": events,
            "actions": _offered_actions(complaint, request.user),
            "transition_form": form or ComplaintTransitionForm(initial={"resolution": complaint.resolution}),
        },
        status=status,
    )


@require_POST
@permission_required("customers.change_complaint", raise_exception=True)
def complaint_transition(request, pk: int):
    """One step of the complaint's life (start, resolve, close, reopen), written on the timeline."""
    complaint = get_object_or_404(Complaint, pk=pk)
    form = ComplaintTransitionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        resolution = form.cleaned_data["resolution"] if action == "resolve" else None
        try:
            complaint = services.complaint_transition(
                complaint=complaint,
                action=action,
                by=request.user,
                note=form.cleaned_data["note"],
                resolution=resolution,
            )
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(
                request,
                _("Complaint %(number)s is now %(state)s.")
                % {"number": complaint.number, "state": complaint.get_state_display().lower()},
            )
            return redirect(complaint)
    return complaint_detail(request, pk, form=form, status=400)

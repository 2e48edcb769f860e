"""Warehouse pages of carrier tracking: import events from a spreadsheet, review events nobody matched."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from config.errors import DomainError, form_error_from
from config.imports import (
    ImportFileError,
    ImportUploadForm,
    import_stash,
    import_stash_drop,
    import_unstash,
    read_upload,
    table_from_bytes,
)
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from logistics.models import UnmatchedOutcome, UnmatchedTrackingEvent
from logistics.tracking import unmatched
from logistics.tracking.imports import COLUMNS, IMPORT_PERMISSION, TrackingImportRejected, tracking_import, tracking_preview

SESSION_KEY = "import:tracking"
PAGE_SIZE = 50
# Status words carriers' own exports use, shown as examples (data, not translated).
CARRIER_WORDS = "已签收, 运输中, 派件中, 拒收, 退回, 问题件"


def _render_import(request, **context):
    status = context.pop("status", 200)
    context = {"columns": COLUMNS, "carrier_words": CARRIER_WORDS, **context}
    return render(request, "logistics/tracking_import.html", context, status=status)


@permission_required(IMPORT_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def tracking_import_page(request):
    """Upload → every row checked and shown (new, already stored, unknown waybill) → all stored in one step, or none."""
    stored = request.session.get(SESSION_KEY)
    if request.method == "POST" and "commit" in request.POST:
        raw = table = None
        if isinstance(stored, Mapping) and stored.get("token") and request.POST.get("token") == stored.get("token"):
            raw = import_unstash(token=stored["token"], user_id=request.user.pk)
        if raw is not None:
            try:
                table = table_from_bytes(raw, name=str(stored.get("filename", "")), columns=COLUMNS)
            except ImportFileError:
                table = None
        if table is None:
            messages.error(request, _("This preview is out of date. Upload the file again."))
            return _render_import(request, form=ImportUploadForm())
        try:
            result = tracking_import(table=table, by=request.user)
        except TrackingImportRejected as rejected:
            messages.error(request, _("Nothing was imported: fix the rows with errors and upload the file again."))
            return _render_import(request, form=ImportUploadForm(), preview=rejected.preview, filename=table.filename, status=422)
        except DomainError as error:
            messages.error(request, _("Nothing was imported: %(error)s") % {"error": error})
            return _render_import(request, form=ImportUploadForm(), status=422)
        import_stash_drop(token=stored["token"], user_id=request.user.pk)
        del request.session[SESSION_KEY]
        messages.success(
            request,
            _("Tracking imported: %(stored)s new events stored, %(unmatched)s kept aside for unknown waybill numbers.")
            % {"stored": result.stored, "unmatched": result.unmatched},
        )
        return redirect("logistics:tracking_import")
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = getattr(upload, "name", "") or ""
            try:
                raw = read_upload(upload)
                table = table_from_bytes(raw, name=name, columns=COLUMNS)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                preview = tracking_preview(table=table)
                if isinstance(stored, Mapping) and stored.get("token"):
                    import_stash_drop(token=stored["token"], user_id=request.user.pk)
                token = import_stash(raw=raw, user_id=request.user.pk)
                request.session[SESSION_KEY] = {"token": token, "filename": name}
                return _render_import(request, form=ImportUploadForm(), preview=preview, token=token, filename=name[:80])
        return _render_import(request, form=form, status=400)
    return _render_import(request, form=ImportUploadForm())


@permission_required("logistics.view_unmatchedtrackingevent", raise_exception=True)
def unmatched_list_view(request):
    """Events for unknown waybill numbers, newest first: still to review, assigned, dismissed."""
    state = request.GET.get("state", "open")
    if state not in ("open", "all", *UnmatchedOutcome.values):
        state = "open"
    text = request.GET.get("q", "")[:60]
    page = CappedPaginator(unmatched.unmatched_list(state=state, text=text), PAGE_SIZE).get_page(request.GET.get("page"))
    states = [("open", _("To review")), *UnmatchedOutcome.choices, ("all", _("All"))]
    return render(request, "logistics/unmatched_list.html", {"page_obj": page, "state": state, "q": text, "states": states})


class AssignForm(forms.Form):
    waybill = forms.CharField(
        label=gettext_lazy("Waybill number of our parcel"),
        max_length=60,
        help_text=gettext_lazy("The number as it is on the parcel's label, if the carrier's differs."),
    )


@permission_required(unmatched.REVIEW_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.unmatched_assign", form=True)
def unmatched_assign_view(request, pk: int):
    """Confirm, then apply the waybill's open events to our parcel."""
    event = get_object_or_404(UnmatchedTrackingEvent, pk=pk)
    if event.resolved_at is not None:
        messages.info(request, _("This event was already reviewed."))
        return redirect("logistics:unmatched_list")
    form = AssignForm(request.POST if request.method == "POST" else None, initial={"waybill": event.waybill_number})
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                parcel, stored = unmatched.unmatched_assign(event=event, waybill=form.cleaned_data["waybill"], by=request.user)
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(
                    request,
                    _("Assigned to parcel %(index)s of %(shipment)s: %(n)s new events.")
                    % {"index": parcel.index, "shipment": parcel.shipment.number, "n": stored},
                )
                return redirect("logistics:unmatched_list")
        status = 422
    context = {"event": event, "form": form, "siblings": list(unmatched.siblings(event)[:50]), "mode": "assign"}
    return render(request, "logistics/unmatched_confirm.html", context, status=status)


@permission_required(unmatched.REVIEW_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("logistics.unmatched_dismiss", form=True)
def unmatched_dismiss_view(request, pk: int):
    """Confirm, then take the event off the review list."""
    event = get_object_or_404(UnmatchedTrackingEvent, pk=pk)
    if event.resolved_at is not None:
        messages.info(request, _("This event was already reviewed."))
        return redirect("logistics:unmatched_list")
    form = forms.Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            unmatched.unmatched_dismiss(event=event, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The event was dismissed."))
        return redirect(reverse("logistics:unmatched_list"))
    context = {"event": event, "form": form, "siblings": [], "mode": "dismiss"}
    return render(request, "logistics/unmatched_confirm.html", context, status=422 if request.method == "POST" else 200)

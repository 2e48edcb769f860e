"""Finance pages of red-letter credit notes: list, draft one against an invoice, the credit note
with its timeline, red-letter number, issue (confirmed) and discard, and its PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.access import invoice_reader_required
from billing.credit_notes import services
from billing.credit_notes.forms import CreditNoteFilter, CreditNoteForm, RedLetterForm
from billing.documents import credit_note_pdf_store
from billing.invoices.forms import NoteForm
from billing.models import CreditNote, CreditNoteStatus, Invoice, InvoiceKind
from billing.selectors import invoice_detail, visible_credit_notes
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions

PAGE_SIZE = 25
ACTIONS = ["issue", "discard"]


@require_GET
@invoice_reader_required
def creditnote_list(request):
    """Credit notes, newest first, by status and reason; search by number, invoice or buyer."""
    notes = visible_credit_notes(user=request.user).select_related("invoice", "customer")
    filterset = CreditNoteFilter(request.GET or None, queryset=notes)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/creditnote_list.html", {"filter": filterset, "page_obj": page})


def _invoice(request, pk: int) -> Invoice:
    try:
        return invoice_detail(pk=pk, user=request.user)
    except Invoice.DoesNotExist as missing:
        raise Http404 from missing


@require_http_methods(["GET", "POST"])
@permission_required("billing.add_creditnote", raise_exception=True)
@submitted_once("billing.creditnote_create", form=True)
def creditnote_create(request, invoice_id: int):
    """Draft a credit note against an issued invoice: everything, or units / amounts per line."""
    invoice = _invoice(request, invoice_id)
    rows = [item for item in services.creditable_lines(invoice=invoice) if item.net > 0 or item.tax > 0]
    form = CreditNoteForm(request.POST if request.method == "POST" else None, rows=rows)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                note = services.credit_note_draft(
                    invoice=invoice,
                    reason=form.cleaned_data["reason"],
                    requests=form.requests(),
                    red_letter_number=form.cleaned_data["red_letter_number"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Draft credit note created: check it, then issue it."))
                return redirect(note)
        status = 422
    context = {"invoice": invoice, "form": form, "rows": form.bound_rows(), "special": invoice.kind == InvoiceKind.SPECIAL}
    return render(request, "billing/creditnote_form.html", context, status=status)


def _get(request, pk: int) -> CreditNote:
    note = visible_credit_notes(user=request.user).select_related("invoice", "customer", "created_by").filter(pk=pk).first()
    if note is None:
        raise Http404
    return note


def _render_detail(request, note: CreditNote, *, red_letter_form=None, status: int = 200):
    is_draft = note.status == CreditNoteStatus.DRAFT
    context = {
        "note": note,
        "lines": list(note.lines.select_related("invoice_line").order_by("position", "pk")),
        "events": list(note.events.select_related("by")),
        "allowed": allowed_transitions(note, request.user, ACTIONS),
        "red_letter_form": red_letter_form
        or (
            RedLetterForm(initial={"red_letter_number": note.red_letter_number})
            if is_draft and request.user.has_perm("billing.change_creditnote")
            else None
        ),
        "needs_red_letter": is_draft and note.invoice.kind == InvoiceKind.SPECIAL and not note.red_letter_number,
        "discard_form": NoteForm(),
    }
    return render(request, "billing/creditnote_detail.html", context, status=status)


@require_GET
@invoice_reader_required
def creditnote_detail(request, pk: int):
    """The credit note: its invoice, lines, totals, timeline and actions."""
    return _render_detail(request, _get(request, pk))


@require_POST
@permission_required("billing.change_creditnote", raise_exception=True)
def creditnote_red_letter(request, pk: int):
    """Fill in the red-letter confirmation number of a draft."""
    note = _get(request, pk)
    form = RedLetterForm(request.POST)
    if form.is_valid():
        try:
            services.credit_note_update_draft(
                credit_note=note, by=request.user, red_letter_number=form.cleaned_data["red_letter_number"]
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Red-letter confirmation number saved."))
            return redirect(note)
    return _render_detail(request, note, red_letter_form=form, status=422)


@require_POST
@permission_required("billing.issue_creditnote", raise_exception=True)
@submitted_once("billing.creditnote_issue")
def creditnote_issue(request, pk: int):
    """Issue the draft (confirmed on the page): the invoice's open amount drops in the same step."""
    note = _get(request, pk)
    try:
        issued = services.credit_note_issue(credit_note=note, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Credit note %(number)s issued; invoice %(invoice)s is reduced by %(amount)s.")
            % {"number": issued.number, "invoice": note.invoice.number, "amount": issued.total_gross},
        )
    return redirect(note)


@require_POST
@permission_required("billing.change_creditnote", raise_exception=True)
def creditnote_discard(request, pk: int):
    note = _get(request, pk)
    form = NoteForm(request.POST)
    reason = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.credit_note_discard(credit_note=note, by=request.user, note=reason)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Draft discarded."))
    return redirect(note)


@require_GET
@invoice_reader_required
def creditnote_pdf(request, pk: int):
    note = _get(request, pk)
    if note.status != CreditNoteStatus.ISSUED:
        raise Http404(_("A draft has no PDF yet."))
    stored = credit_note_pdf_store(credit_note=note)
    return FileResponse(stored.pdf.open("rb"), content_type="application/pdf", filename=f"{stored.number}.pdf")

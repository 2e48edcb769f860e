"""Finance pages of invoices: the list (filters, export), what waits to be invoiced, invoicing
orders, the invoice with its timeline and actions (edit a draft, issue, discard, fapiao number,
PDF, credit). Each view parses, calls one service, redirects; every view checks permissions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.access import invoice_reader_required
from billing.documents import invoice_pdf_store
from billing.invoices import exports, services
from billing.invoices.forms import CreateInvoiceForm, DraftInvoiceForm, FapiaoNumberForm, InvoiceFilter, NoteForm
from billing.models import Invoice, InvoiceStatus
from billing.selectors import invoice_detail, invoice_lines, orders_to_invoice, visible_credit_notes, visible_invoices
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from orders.invoicing import INVOICEABLE_STATUSES, PREPAYABLE_STATUSES, invoiceable_quantity
from orders.models import SalesOrder

PAGE_SIZE = 25
ACTIONS = ["issue", "discard"]


def _filterset(request):
    invoices = visible_invoices(user=request.user).select_related("customer")
    return InvoiceFilter(request.GET or None, queryset=invoices)


@require_GET
@invoice_reader_required
def invoice_list(request):
    """Invoices, newest first: by status, customer, issue date, overdue; search by number, buyer or order."""
    filterset = _filterset(request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/invoice_list.html", {"filter": filterset, "page_obj": page})


@require_GET
@permission_required("billing.export_invoice", raise_exception=True)
def invoice_export(request):
    """The filtered list as CSV or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in ("csv", "xlsx"):
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    filterset = _filterset(request)
    if filterset.is_bound and not filterset.is_valid():
        return JsonResponse({"error": _("Correct the filters first."), "fields": filterset.errors.get_json_data()}, status=400)
    return exports.invoices_export_response(filterset.qs, export_format)


@require_GET
@permission_required("billing.add_invoice", raise_exception=True)
def to_invoice(request):
    """Finance's queue: shipped and delivered orders with units not yet invoiced, oldest approval first."""
    only_delivered = request.GET.get("delivered") == "1"
    orders = orders_to_invoice(statuses=None if only_delivered else INVOICEABLE_STATUSES)
    page = CappedPaginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/to_invoice.html", {"page_obj": page, "only_delivered": only_delivered})


def _order_rows(order: SalesOrder) -> list[dict]:
    return [
        {"line": line, "invoiceable": invoiceable_quantity(line)}
        for line in order.lines.select_related("product").order_by("position", "pk")
    ]


@require_http_methods(["GET", "POST"])
@permission_required("billing.add_invoice", raise_exception=True)
@submitted_once("billing.invoice_create", form=True)
def invoice_create(request, order_id: int):
    """Invoice what shipped of an order and is not yet invoiced (a prepayment invoice before it ships)."""
    order = get_object_or_404(SalesOrder.objects.select_related("customer"), pk=order_id)
    prepayment = order.status in PREPAYABLE_STATUSES
    form = CreateInvoiceForm(
        request.POST if request.method == "POST" else None, initial={"kind": services.default_kind(order.customer)}
    )
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            kind, medium = form.cleaned_data["kind"], form.cleaned_data["medium"]
            try:
                if prepayment:
                    invoice = services.invoice_draft_prepayment(order=order, by=request.user, kind=kind, medium=medium)
                else:
                    outcome = services.invoice_draft_from_orders(orders=[order], by=request.user, kind=kind, medium=medium)
                    invoice = outcome.invoice
            except DomainError as error:
                form_error_from(form, error)
            else:
                if invoice is None:
                    messages.success(
                        request,
                        _("%(number)s is covered by its prepayment invoice: nothing new to invoice.") % {"number": order.number},
                    )
                    return redirect(order)
                messages.success(request, _("Draft invoice created: check it, then issue it."))
                return redirect(invoice)
        status = 422
    context = {
        "order": order,
        "form": form,
        "rows": _order_rows(order),
        "prepayment": prepayment,
        "refusal": services.prepayment_refusal(order.customer) if prepayment else "",
    }
    return render(request, "billing/invoice_create.html", context, status=status)


def _get(request, pk: int) -> Invoice:
    try:
        return invoice_detail(pk=pk, user=request.user)
    except Invoice.DoesNotExist as missing:
        raise Http404 from missing


def _render_detail(request, invoice: Invoice, *, draft_form=None, fapiao_form=None, status: int = 200):
    may_change = request.user.has_perm("billing.change_invoice") and invoice.status == InvoiceStatus.DRAFT
    context = {
        "invoice": invoice,
        "lines": invoice_lines(invoice=invoice),
        "events": list(invoice.events.select_related("by")),
        "credit_notes": list(visible_credit_notes(user=request.user).filter(invoice=invoice).order_by("created_at", "pk")),
        "allowed": allowed_transitions(invoice, request.user, ACTIONS),
        "draft_form": draft_form or (DraftInvoiceForm(instance=invoice) if may_change else None),
        "fapiao_form": fapiao_form
        or (
            FapiaoNumberForm()
            if invoice.status == InvoiceStatus.ISSUED
            and not invoice.fapiao_number
            and request.user.has_perm("billing.issue_invoice")
            else None
        ),
        "problems": services.issue_problems(invoice) if invoice.status == InvoiceStatus.DRAFT else [],
        "may_credit": invoice.status == InvoiceStatus.ISSUED
        and invoice.creditable_amount > 0
        and request.user.has_perm("billing.add_creditnote"),
        "discard_form": NoteForm(),
    }
    return render(request, "billing/invoice_detail.html", context, status=status)


@require_GET
@invoice_reader_required
def invoice_detail_view(request, pk: int):
    """The invoice: buyer, lines, totals in figures and words, credit notes, timeline and actions."""
    return _render_detail(request, _get(request, pk))


@require_POST
@permission_required("billing.change_invoice", raise_exception=True)
def invoice_update(request, pk: int):
    """Save the printed details of a draft."""
    invoice = _get(request, pk)
    form = DraftInvoiceForm(request.POST, instance=Invoice.objects.get(pk=invoice.pk))
    if form.is_valid():
        try:
            services.invoice_update_draft(
                invoice=invoice, by=request.user, **{name: form.cleaned_data[name] for name in form.fields}
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect(invoice)
    return _render_detail(request, _get(request, pk), draft_form=form, status=422)


@require_POST
@permission_required("billing.issue_invoice", raise_exception=True)
@submitted_once("billing.invoice_issue")
def invoice_issue(request, pk: int):
    """Issue the draft (confirmed on the page): gapless number, PDF, e-mail to the customer."""
    invoice = _get(request, pk)
    try:
        issued = services.invoice_issue(invoice=invoice, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invoice %(number)s issued; the customer receives it by e-mail.") % {"number": issued.number})
    return redirect(invoice)


@require_POST
@permission_required("billing.change_invoice", raise_exception=True)
def invoice_discard(request, pk: int):
    """Abandon a draft; its units can be invoiced again."""
    invoice = _get(request, pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.invoice_discard(invoice=invoice, by=request.user, note=note)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Draft discarded."))
    return redirect(invoice)


@require_POST
@permission_required("billing.issue_invoice", raise_exception=True)
def invoice_fapiao(request, pk: int):
    """Record the tax platform's fapiao number, once."""
    invoice = _get(request, pk)
    form = FapiaoNumberForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_record_fapiao_number(
                invoice=invoice, fapiao_number=form.cleaned_data["fapiao_number"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Fapiao number recorded."))
            return redirect(invoice)
    return _render_detail(request, invoice, fapiao_form=form, status=422)


@require_GET
@invoice_reader_required
def invoice_pdf(request, pk: int):
    """The stored PDF of an issued invoice (stored on first need, never rendered again)."""
    invoice = _get(request, pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise Http404(_("A draft has no PDF yet."))
    stored = invoice_pdf_store(invoice=invoice)
    return FileResponse(stored.pdf.open("rb"), content_type="application/pdf", filename=f"{stored.number}.pdf")

"""Finance's statement pages: list, make, detail with timeline, send, withdraw, revoke the link, PDF
and XLSX. Each view parses, calls one service, redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.statements import services
from billing.statements.documents import XLSX_TYPE, statement_context, statement_pdf, statement_xlsx
from billing.statements.forms import StatementCreateForm, StatementFilterForm, WithdrawForm
from billing.statements.models import SEND_STATEMENT_PERMISSION, CustomerStatement, StatementToken
from billing.statements.selectors import statement_list
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from customers.models import Customer

ACTIONS = ["send", "withdraw"]
PAGE_SIZE = 25


@permission_required("billing.view_customerstatement", raise_exception=True)
def statement_list_view(request):
    """Statements, latest period first, filtered by state, customer, month, and a customer search."""
    form = StatementFilterForm(request.GET)
    statements = statement_list(**form.values())
    page = CappedPaginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/statement_list.html", {"filter": {"form": form}, "page_obj": page})


@permission_required(SEND_STATEMENT_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.statement_create", form=True)
def statement_create(request):
    """Make a statement of one customer's account for a period (last month unless changed)."""
    initial = {}
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit() and (customer := Customer.objects.filter(pk=int(customer_id)).first()):
        initial["customer"] = customer.code
    form = StatementCreateForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            data = form.cleaned_data
            try:
                statement = services.statement_create(
                    customer=data["customer"], period_start=data["period_start"], period_end=data["period_end"], by=request.user
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Statement made: check it, then send it to the customer."))
                return redirect(statement)
        status = 422
    return render(request, "billing/statement_form.html", {"form": form}, status=status)


def _get(pk: int) -> CustomerStatement:
    return get_object_or_404(CustomerStatement.objects.select_related("customer", "created_by"), pk=pk)


@permission_required("billing.view_customerstatement", raise_exception=True)
def statement_detail(request, pk: int):
    """The statement as the customer sees it, its state, the customer's comment, its timeline and actions."""
    statement = _get(pk)
    token = StatementToken.objects.filter(statement=statement).first()
    context = {
        **statement_context(statement),
        "events": list(statement.events.select_related("by")),
        "allowed": allowed_transitions(statement, request.user, ACTIONS),
        "link_active": token is not None and token.revoked_at is None,
        "link_used": token is not None and token.used_at is not None,
        "withdraw_form": WithdrawForm(),
        "may_send": request.user.has_perm(SEND_STATEMENT_PERMISSION),
    }
    return render(request, "billing/statement_detail.html", context)


@permission_required(SEND_STATEMENT_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("billing.statement_send")
def statement_send(request, pk: int):
    """Send the draft to the customer's e-mail address with the link to confirm or dispute it."""
    statement = _get(pk)
    try:
        services.statement_send(statement=statement, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The statement is on its way to %(email)s.") % {"email": statement.customer.email})
    return redirect(statement)


@permission_required(SEND_STATEMENT_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def statement_withdraw(request, pk: int):
    """Confirm, then withdraw the statement (its link stops working; a corrected one may be made)."""
    statement = _get(pk)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.statement_withdraw(statement=statement, note=form.cleaned_data["note"], by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The statement is withdrawn."))
        return redirect(statement)
    status = 422 if request.method == "POST" else 200
    return render(request, "billing/statement_withdraw.html", {"statement": statement, "form": form}, status=status)


@permission_required(SEND_STATEMENT_PERMISSION, raise_exception=True)
@require_POST
def statement_link_revoke(request, pk: int):
    """The statement's link stops working at once."""
    statement = _get(pk)
    try:
        revoked = services.statement_link_revoke(statement=statement, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if revoked:
            messages.success(request, _("The statement's link no longer works."))
        else:
            messages.info(request, _("The statement had no working link."))
    return redirect(statement)


@permission_required("billing.view_customerstatement", raise_exception=True)
def statement_document(request, pk: int, kind: str):
    """The statement as PDF (the stored one once sent) or XLSX, in the reader's language."""
    statement = _get(pk)
    name = f"statement-{statement.customer.code}-{statement.period_end:%Y%m%d}"
    if kind == "pdf":
        if statement.pdf:
            with statement.pdf.open("rb") as stored:
                body = stored.read()
        else:
            body = statement_pdf(statement=statement, language=get_language())
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
    if kind == "xlsx":
        response = HttpResponse(statement_xlsx(statement=statement, language=get_language()), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    return HttpResponse(status=404)

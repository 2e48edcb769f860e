"""Finance pages of bank statements: import, statements, the reconciliation queue, a line with its
suggestions (accept, split, not a payment, undo), combining lines, accounts and column mappings.
Each view checks its permission, parses, calls one service and redirects."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.models import Invoice
from config.actors import Actor
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once

from . import reconciliation, services
from .forms import (
    BankAccountForm,
    BankFileMappingForm,
    BankImportForm,
    CombineForm,
    IgnoreForm,
    LineFilter,
    SplitForm,
    UndoForm,
)
from .models import (
    IMPORT_PERMISSION,
    RECONCILE_PERMISSION,
    VIEW_PERMISSION,
    BankAccount,
    BankFileMapping,
    BankStatementLine,
    LineStatus,
    MatchSuggestion,
)
from .parsing.mappings import BUILT_IN_BY_KEY
from .selectors import import_list, line_list, queue_lines, statement_list
from .tasks import exact_matches_kick

PAGE_SIZE = 50


def _page(request, queryset, size=PAGE_SIZE):
    return CappedPaginator(queryset, size).get_page(request.GET.get("page"))


# --- statements and imports ----------------------------------------------------------------------


@permission_required(VIEW_PERMISSION, raise_exception=True)
def statement_list_view(request):
    """Imported statements, newest first, with the ones whose balances do not add up marked."""
    queryset = statement_list()
    account = request.GET.get("account", "")
    if account.isdigit():
        queryset = queryset.filter(account_id=int(account))
    if request.GET.get("warnings") == "1":
        queryset = queryset.filter(balance_mismatch=True)
    context = {
        "page_obj": _page(request, queryset),
        "accounts": BankAccount.objects.order_by("code"),
        "account": account,
        "imports": import_list()[:5],
        "to_match": queue_lines().count(),
    }
    return render(request, "billing/bank/statement_list.html", context)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def statement_detail(request, pk: int):
    statement = get_object_or_404(statement_list(), pk=pk)
    lines = statement.lines.select_related("customer").order_by("booking_date", "pk")
    return render(request, "billing/bank/statement_detail.html", {"statement": statement, "page_obj": _page(request, lines)})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def import_detail(request, pk: int):
    """What one file brought: lines imported, already there, matched; each statement's balance check."""
    bank_import = get_object_or_404(import_list(), pk=pk)
    statements = bank_import.statements.select_related("account").order_by("position")
    return render(request, "billing/bank/import_detail.html", {"bank_import": bank_import, "statements": statements})


def _chosen_mapping(value: str):
    if value.startswith("builtin:"):
        return BUILT_IN_BY_KEY.get(value.split(":", 1)[1])
    if value.startswith("user:") and value.split(":", 1)[1].isdigit():
        return BankFileMapping.objects.filter(pk=int(value.split(":", 1)[1])).first()
    return None


@permission_required(IMPORT_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bank_import", form=True)
def statement_import(request):
    """Upload a statement file: the format is recognised, new lines are stored and matched."""
    form = BankImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            upload = form.cleaned_data["file"]
            try:
                summary = services.bank_file_import(
                    raw=upload.read(services.max_file_bytes() + 1),
                    filename=upload.name,
                    actor=Actor.of(request.user),
                    account=form.cleaned_data["account"],
                    file_format=form.cleaned_data["file_format"],
                    mapping=_chosen_mapping(form.cleaned_data["mapping"]),
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                if summary.already_imported:
                    messages.info(
                        request,
                        _("This file was imported before (%(date)s): nothing was added.")
                        % {"date": summary.bank_import.imported_at.strftime("%Y-%m-%d %H:%M")},
                    )
                else:
                    messages.success(
                        request,
                        _("%(imported)s lines imported, %(skipped)s already there, %(matched)s matched automatically.")
                        % {"imported": summary.imported, "skipped": summary.skipped, "matched": summary.matched},
                    )
                if summary.pending:
                    messages.info(
                        request,
                        _("%(count)s exact matches are being recorded as payments in the background.")
                        % {"count": summary.pending},
                    )
                    bank_import = summary.bank_import
                    transaction.on_commit(lambda: exact_matches_kick(bank_import))
                return redirect("billing:bankimport_detail", pk=summary.bank_import.pk)
        status = 422
    return render(request, "billing/bank/import_form.html", {"form": form}, status=status)


# --- reconciliation ------------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION, raise_exception=True)
def line_queue(request):
    """The reconciliation queue: money in to match (by default), with each line's best suggestion."""
    data = request.GET.copy()
    if not data:
        data.update({"status": LineStatus.UNMATCHED, "direction": "in"})
    filterset = LineFilter(data, queryset=line_list())
    page = _page(request, filterset.qs)
    best: dict[int, MatchSuggestion] = {}
    for suggestion in MatchSuggestion.objects.filter(line__in=[line.pk for line in page]).select_related(
        "invoice", "invoice__customer"
    ):
        best.setdefault(suggestion.line_id, suggestion)
    rows = [(line, best.get(line.pk)) for line in page]
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": rows,
        "may_reconcile": request.user.has_perm(RECONCILE_PERMISSION),
    }
    return render(request, "billing/bank/line_queue.html", context)


def _get_line(pk: int) -> BankStatementLine:
    return get_object_or_404(BankStatementLine.objects.select_related("account", "statement", "customer", "matched_by"), pk=pk)


def _rows(suggestions) -> list[tuple[Invoice, Decimal]]:
    return [(s.invoice, s.amount) for s in suggestions]


def _split_rows(line: BankStatementLine) -> list[tuple[Invoice, Decimal]]:
    return _rows(line.suggestions.select_related("invoice", "invoice__customer"))


def _render_line(request, line: BankStatementLine, *, split_form=None, ignore_form=None, status=200):
    suggestions = list(line.suggestions.select_related("invoice", "invoice__customer"))
    may = request.user.has_perm(RECONCILE_PERMISSION)
    open_line = line.status == LineStatus.UNMATCHED
    context = {
        "line": line,
        "suggestions": suggestions,
        "payment": reconciliation.line_payment(line) if line.status == LineStatus.MATCHED else None,
        "may_reconcile": may,
        "split_form": split_form
        or (
            SplitForm(line=line, rows=[(s.invoice, s.amount) for s in suggestions])
            if may and open_line and line.amount > 0
            else None
        ),
        "ignore_form": ignore_form or (IgnoreForm() if may and open_line else None),
    }
    return render(request, "billing/bank/line_detail.html", context, status=status)


def _not_open(request, line: BankStatementLine):
    """A form posted for a line that is matched or set aside already (another tab, a second clerk):
    nothing changes and the line's page says where it stands."""
    messages.error(request, _("This bank line is not waiting to be matched any more: nothing was changed."))
    return redirect(line)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def line_detail(request, pk: int):
    return _render_line(request, _get_line(pk))


@permission_required(RECONCILE_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("billing.bankline_accept")
def line_accept(request, pk: int, suggestion_id: int):
    """Accept one suggestion: the line pays that invoice (its open amount at most; the rest is an advance)."""
    line = _get_line(pk)
    suggestion = get_object_or_404(
        MatchSuggestion.objects.select_related("invoice", "invoice__customer"), pk=suggestion_id, line=line
    )
    try:
        reconciliation.line_accept(
            line=line,
            customer=suggestion.invoice.customer,
            allocations=[(suggestion.invoice, min(suggestion.amount, line.amount))],
            actor=Actor.of(request.user),
            method=suggestion.method,
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(line)
    messages.success(request, _("The line pays %(invoice)s.") % {"invoice": suggestion.invoice})
    if request.POST.get("next") == "queue":
        return redirect("billing:bankline_queue")
    return redirect(line)


@permission_required(RECONCILE_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("billing.bankline_split", form=True)
def line_split(request, pk: int):
    """The line pays several invoices of one customer, an amount each."""
    line = _get_line(pk)
    if line.status != LineStatus.UNMATCHED:
        return _not_open(request, line)
    if line.amount <= 0:
        messages.error(request, _("Only money received can pay invoices: this line is a payment out."))
        return redirect(line)
    form = SplitForm(request.POST, line=line, rows=_split_rows(line))
    if submission_form_valid(request, form):
        customer = form.allocations[0][0].customer
        try:
            reconciliation.line_accept(line=line, customer=customer, allocations=form.allocations, actor=Actor.of(request.user))
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("The line pays %(count)s invoice(s).") % {"count": len(form.allocations)})
            return redirect(line)
    return _render_line(request, line, split_form=form, status=422)


@permission_required(RECONCILE_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("billing.bankline_ignore", form=True)
def line_ignore(request, pk: int):
    line = _get_line(pk)
    if line.status != LineStatus.UNMATCHED:
        return _not_open(request, line)
    form = IgnoreForm(request.POST)
    if submission_form_valid(request, form):
        try:
            reconciliation.line_ignore(line=line, actor=Actor.of(request.user), note=form.cleaned_data["note"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("The line is marked as not a customer payment."))
            return redirect("billing:bankline_queue")
    return _render_line(request, line, ignore_form=form, status=422)


@permission_required(RECONCILE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bankline_undo", form=True)
def line_undo(request, pk: int):
    """Undo a match (its payment is voided, the invoices are open again) or a "not a payment", after confirming."""
    line = _get_line(pk)
    form = UndoForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                reconciliation.line_undo(line=line, actor=Actor.of(request.user), note=form.cleaned_data["note"])
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("The match is undone: the line waits in the queue again."))
                return redirect(line)
        status = 422
    context = {"line": line, "form": form, "payment": reconciliation.line_payment(line)}
    return render(request, "billing/bank/line_undo.html", context, status=status)


@permission_required(RECONCILE_PERMISSION, raise_exception=True)
@require_POST
@submitted_once("billing.bankline_combine", form=True)
def lines_combine(request):
    """Several lines pay one invoice together."""
    form = CombineForm(request.POST)
    if submission_form_valid(request, form):
        try:
            reconciliation.lines_combine(
                lines=list(form.cleaned_data["lines"]), invoice=form.cleaned_data["invoice"], actor=Actor.of(request.user)
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(count)s lines pay %(invoice)s.")
                % {"count": len(form.cleaned_data["lines"]), "invoice": form.cleaned_data["invoice"]},
            )
            return redirect("billing:bankline_queue")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("billing:bankline_queue")


# --- accounts and column mappings ----------------------------------------------------------------


@permission_required("billing.view_bankaccount", raise_exception=True)
def account_list(request):
    accounts = BankAccount.objects.select_related("file_mapping").order_by("code")
    mappings = BankFileMapping.objects.order_by("name")
    return render(request, "billing/bank/account_list.html", {"accounts": accounts, "mappings": mappings})


def _edit(request, *, form_class, instance, save, success: str, template: str):
    form = form_class(request.POST or None, instance=instance)
    status = 200
    if request.method == "POST":
        if submission_form_valid(request, form):
            try:
                saved = save(form.save(commit=False), actor=Actor.of(request.user))
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, success % {"name": saved})
                return redirect("billing:bankaccount_list")
        status = 422
    return render(request, template, {"form": form, "object": instance}, status=status)


@permission_required("billing.add_bankaccount", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bankaccount_create", form=True)
def account_create(request):
    return _edit(
        request,
        form_class=BankAccountForm,
        instance=None,
        save=services.bank_account_save,
        success=_("Bank account %(name)s saved."),
        template="billing/bank/account_form.html",
    )


@permission_required("billing.change_bankaccount", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bankaccount_edit", form=True)
def account_edit(request, pk: int):
    return _edit(
        request,
        form_class=BankAccountForm,
        instance=get_object_or_404(BankAccount, pk=pk),
        save=services.bank_account_save,
        success=_("Bank account %(name)s saved."),
        template="billing/bank/account_form.html",
    )


@permission_required("billing.add_bankfilemapping", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bankmapping_create", form=True)
def mapping_create(request):
    return _edit(
        request,
        form_class=BankFileMappingForm,
        instance=None,
        save=services.bank_mapping_save,
        success=_("Column mapping %(name)s saved."),
        template="billing/bank/mapping_form.html",
    )


@permission_required("billing.change_bankfilemapping", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.bankmapping_edit", form=True)
def mapping_edit(request, pk: int):
    return _edit(
        request,
        form_class=BankFileMappingForm,
        instance=get_object_or_404(BankFileMapping, pk=pk),
        save=services.bank_mapping_save,
        success=_("Column mapping %(name)s saved."),
        template="billing/bank/mapping_form.html",
    )

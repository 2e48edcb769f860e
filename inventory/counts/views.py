"""Pages of stock counts: list, open, count (typing or scanning), review, post, cancel, count sheet PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.documents import render_document_html, render_pdf
from config.errors import DomainError
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from inventory.counts import services
from inventory.counts.forms import (
    CountEntryForm,
    CountLineFilterForm,
    ScanForm,
    StockCountCancelForm,
    StockCountFilter,
    StockCountOpenForm,
    StockCountPostForm,
    counted_field_name,
)
from inventory.counts.models import StockCount, StockCountEvent

ACTIONS = ["post", "cancel"]
LIST_PAGE_SIZE = 25
LINES_PAGE_SIZE = 50
REVIEW_PAGE_SIZE = 100
MAX_LINE_IDS = 500


@permission_required("inventory.view_stockcount", raise_exception=True)
def count_list(request):
    """Counts, newest first, filtered by warehouse, state and number."""
    filterset = StockCountFilter(request.GET, queryset=services.stock_count_list())
    page = CappedPaginator(filterset.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inventory/stockcount_list.html", {"filter": filterset, "page_obj": page})


@permission_required("inventory.count_stock", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("counts.create", form=True)
def count_create(request):
    """Open a count for a warehouse, all products or a part of them."""
    form = StockCountOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            count = services.stock_count_open(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            opened = ngettext(
                "Count %(number)s is open with %(n)s line.", "Count %(number)s is open with %(n)s lines.", count.line_count
            )
            messages.success(request, opened % {"number": count.number, "n": count.line_count})
            return redirect(count)
    return render(request, "inventory/stockcount_form.html", {"form": form})


def _filtered_lines(count: StockCount, filter_form: CountLineFilterForm):
    lines = services.stock_count_lines(count=count)
    if not filter_form.is_valid():
        return lines
    if q := filter_form.cleaned_data.get("q", "").strip():
        lines = lines.filter(Q(product__sku__icontains=q) | Q(product__name__icontains=q) | Q(product__barcode__icontains=q))
    show = filter_form.cleaned_data.get("show")
    if show == "uncounted":
        lines = lines.filter(counted_quantity__isnull=True)
    elif show == "counted":
        lines = lines.filter(counted_quantity__isnull=False)
    elif show == "variance":
        # Counted and different from the system quantity when counted (posted or not).
        lines = lines.filter(counted_quantity__isnull=False).exclude(counted_quantity=F("on_hand_at_count"))
    return lines


def _render_detail(request, count: StockCount, *, entry_form: CountEntryForm | None = None, status: int = 200):
    filter_form = CountLineFilterForm(request.GET)
    page = CappedPaginator(_filtered_lines(count, filter_form), LINES_PAGE_SIZE).get_page(request.GET.get("page"))
    lines = list(page.object_list)
    can_count = count.is_active and request.user.has_perm("inventory.count_stock")
    if can_count and entry_form is None:
        entry_form = CountEntryForm(
            line_ids=[line.pk for line in lines],
            initial={counted_field_name(line.pk): line.counted_quantity for line in lines},
        )
    moved = services.stock_count_moved_since_opening(count=count)
    rows = [
        {
            "line": line,
            "moved": moved.get(line.product_id),
            "field": entry_form[counted_field_name(line.pk)]
            if can_count and counted_field_name(line.pk) in entry_form.fields
            else None,
        }
        for line in lines
    ]
    context = {
        "count": count,
        "page_obj": page,
        "rows": rows,
        "filter_form": filter_form,
        "entry_form": entry_form,
        "can_count": can_count,
        "scan_form": ScanForm(),
        "cancel_form": StockCountCancelForm(),
        "moved_count": len(moved),
        "summary": services.stock_count_summary(count=count),
        "allowed": allowed_transitions(count, request.user, ACTIONS),
        "events": services.stock_count_events(count=count),
    }
    return render(request, "inventory/stockcount_detail.html", context, status=status)


def _get_count(pk: int) -> StockCount:
    return get_object_or_404(StockCount.objects.select_related("warehouse", "opened_by", "posted_by", "cancelled_by"), pk=pk)


def _posted_line_ids(request) -> list[int] | None:
    raw = request.POST.getlist("line")
    if len(raw) > MAX_LINE_IDS or not all(value.isdigit() and len(value) < 18 for value in raw):
        return None
    return [int(value) for value in raw]


@permission_required("inventory.view_stockcount", raise_exception=True)
@require_http_methods(["GET", "POST"])
def count_detail(request, pk: int):
    """The count's lines; while it is open, POST saves the typed counted quantities of the page shown."""
    count = _get_count(pk)
    if request.method == "GET":
        return _render_detail(request, count)
    if not request.user.has_perm("inventory.count_stock"):
        raise PermissionDenied
    line_ids = _posted_line_ids(request)
    if line_ids is None:
        messages.error(request, _("The quantities could not be read; nothing was saved."))
        return redirect(request.get_full_path())
    entry_form = CountEntryForm(request.POST, line_ids=line_ids)
    if not entry_form.is_valid():
        messages.error(request, _("Some quantities are not valid; nothing was saved. Correct the marked lines."))
        return _render_detail(request, count, entry_form=entry_form, status=422)
    try:
        services.stock_count_record(count=count, quantities=entry_form.quantities(), by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Counted quantities saved."))
    return redirect(request.get_full_path())


@permission_required("inventory.count_stock", raise_exception=True)
@require_POST
def count_scan(request, pk: int):
    """One scan adds one to the scanned product's line; htmx gets the result and the updated row."""
    count = _get_count(pk)
    form = ScanForm(request.POST)
    result, error = None, None
    if not form.is_valid():
        error = _("Scan a barcode or type a SKU.")
    else:
        try:
            result = services.stock_count_scan(count=count, code=form.cleaned_data["code"], by=request.user)
        except DomainError as exc:
            error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("%(sku)s %(name)s: counted %(qty)s.")
                % {"sku": result.product.sku, "name": result.product.name, "qty": result.line.counted_quantity},
            )
        return redirect(count)
    count.refresh_from_db()
    context = {"count": count, "result": result, "error": error, "can_count": count.is_active}
    html = render_to_string("inventory/stockcount_detail.html#scan_result", context, request=request)
    if result is not None:
        line = result.line
        moved = services.stock_count_moved_since_opening(count=count, product_ids=[line.product_id])
        entry_form = CountEntryForm(line_ids=[line.pk], initial={counted_field_name(line.pk): line.counted_quantity})
        row = {"line": line, "moved": moved.get(line.product_id), "field": entry_form[counted_field_name(line.pk)], "oob": True}
        html += render_to_string("inventory/stockcount_detail.html#line_row_oob", {**context, "row": row}, request=request)
    return HttpResponse(html)


@permission_required("inventory.view_stockcount", raise_exception=True)
def count_review(request, pk: int):
    """The differences to be posted, in units and at cost, with the lines whose stock moved since opening."""
    count = _get_count(pk)
    moved = services.stock_count_moved_since_opening(count=count)
    lines = services.stock_count_lines(count=count).filter(
        Q(counted_quantity__isnull=False) & (~Q(counted_quantity=F("on_hand_at_count")) | Q(product_id__in=list(moved)))
    )
    page = CappedPaginator(lines, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"line": line, "moved": moved.get(line.product_id)} for line in page.object_list]
    context = {
        "count": count,
        "page_obj": page,
        "rows": rows,
        "summary": services.stock_count_summary(count=count),
        "moved_count": len(moved),
        "to_release": services.stock_count_reservations_to_release(count=count),
        "post_form": StockCountPostForm(),
        "allowed": allowed_transitions(count, request.user, ACTIONS),
    }
    return render(request, "inventory/stockcount_review.html", context)


@permission_required("inventory.count_stock", raise_exception=True)
@require_POST
@submitted_once("counts.post")
def count_post(request, pk: int):
    """Post the count's adjustments, all or nothing."""
    count = _get_count(pk)
    form = StockCountPostForm(request.POST)
    form.is_valid()  # a checkbox: anything unreadable counts as unticked
    try:
        count = services.stock_count_post(
            count=count, by=request.user, allow_uncounted=form.cleaned_data.get("allow_uncounted", False)
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("inventory:count_review", pk=count.pk)
    messages.success(request, _("Count %(number)s is posted.") % {"number": count.number})
    for event in count.events.filter(kind=StockCountEvent.Kind.RESERVATIONS_RELEASED):
        messages.warning(request, event.sentence)
    return redirect(count)


@permission_required("inventory.count_stock", raise_exception=True)
@require_POST
def count_cancel(request, pk: int):
    """Cancel a count that is not posted, with a reason."""
    count = _get_count(pk)
    form = StockCountCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the count is cancelled (at most 300 characters)."))
        return redirect(count)
    try:
        services.stock_count_cancel(count=count, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Count %(number)s is cancelled.") % {"number": count.number})
    return redirect(count)


SHEET_TEMPLATE = "documents/stockcount_sheet.html"


def _sheet_context(*, count: StockCount, with_system: bool) -> dict:
    return {"count": count, "lines": list(services.stock_count_lines(count=count)), "with_system": with_system}


def count_sheet_html(*, count: StockCount, with_system: bool = False, language: str | None = None) -> str:
    """The printable count sheet: every line, with an empty box for the counted quantity."""
    return render_document_html(SHEET_TEMPLATE, _sheet_context(count=count, with_system=with_system), language)


def count_sheet_pdf(*, count: StockCount, with_system: bool = False, language: str | None = None) -> bytes:
    """The count sheet as PDF bytes, on the company letterhead (config.documents.render_pdf)."""
    return render_pdf(SHEET_TEMPLATE, _sheet_context(count=count, with_system=with_system), language)


@permission_required("inventory.view_stockcount", raise_exception=True)
def count_sheet(request, pk: int):
    """The count sheet PDF; by default blind (no system quantities), ?with_system=1 prints them."""
    count = _get_count(pk)
    pdf = count_sheet_pdf(count=count, with_system=request.GET.get("with_system") == "1", language=get_language())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{count.number}.pdf"'
    return response

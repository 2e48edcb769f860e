"""Order pages: the list and its exports, the detail with its timeline, entry and the order's actions."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from config.money import ZERO
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from customers.models import Customer
from customers.selectors import customer_search
from inventory.models import Product
from inventory.stock import selectors as inventory_selectors
from orders import selectors
from orders.models import SalesOrder

from . import exports, services
from .forms import (
    CancelForm,
    OrderHeaderForm,
    OrderLineFormSet,
    line_data,
    line_rows_add,
    line_rows_for,
    line_rows_from,
    line_rows_remove,
)

PAGE_SIZE = 25
SEARCH_LIMIT = 10
ENTRY_TEMPLATE = "orders/salesorder_form.html"


def entry_permission(view):
    """The entry form's helpers serve whoever may create or edit orders."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.has_perm("orders.add_salesorder") or request.user.has_perm("orders.change_salesorder")):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- list, export, detail ---------------------------------------------------------------------


@require_GET
@permission_required("orders.view_salesorder", raise_exception=True)
def order_list(request):
    """Every order, filtered, sorted and paged."""
    filterset = selectors.order_filterset(data=request.GET, user=request.user)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/salesorder_list.html", {"filter": filterset, "page_obj": page})


@require_GET
@permission_required("orders.export_salesorder", raise_exception=True)
def order_export(request):
    """The filtered list as CSV or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in ("csv", "xlsx"):
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    filterset = selectors.order_filterset(data=request.GET, user=request.user)
    if filterset.is_bound and not filterset.is_valid():
        return JsonResponse({"error": _("Correct the filters first."), "fields": filterset.errors.get_json_data()}, status=400)
    return exports.orders_export_response(filterset.qs, export_format)


@require_GET
@permission_required("orders.view_salesorder", raise_exception=True)
def order_detail(request, pk: int):
    """The order: header, lines, totals, findings, stock, the actions this user may take, and its timeline."""
    order = selectors.order_detail(pk=pk)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "findings": list(order.findings.all()),
        "events": list(order.events.all()),
        "actions": selectors.order_allowed_actions(order=order, user=request.user),
        # Sections higher apps add (settings.ORDER_PAGE_PANELS), e.g. logistics' shipments.
        "panels": [
            panel
            for panel in (import_string(path)(order=order, user=request.user) for path in settings.ORDER_PAGE_PANELS)
            if panel is not None
        ],
    }
    return render(request, "orders/salesorder_detail.html", context)


# --- entry --------------------------------------------------------------------------------------


def _availability(product_ids: list[int]) -> dict | None:
    """Free stock per warehouse of these products (None when there are none)."""
    if not product_ids:
        return None
    return inventory_selectors.availability_by_warehouse(product_ids=product_ids)


def _lines_context(formset, *, feedback: str = "", scanned: Product | None = None) -> dict:
    rows = formset.rows(availability=_availability(list(formset.products)))
    priced = [row for row in rows if row.total is not None]
    return {
        "formset": formset,
        "rows": rows,
        "totals": {
            "net": sum((row.net for row in priced), ZERO),
            "tax": sum((row.tax for row in priced), ZERO),
            "total": sum((row.total for row in priced), ZERO),
            "complete": len(priced) == len(rows),
        },
        "feedback": feedback,
        "scanned": scanned,
    }


def _entry_page(request, *, order: SalesOrder | None):
    initial = OrderHeaderForm.initial_for(order) if order else None
    if request.method == "POST":
        submitting = request.POST.get("action") == "submit"
        if submitting and not request.user.has_perm("orders.submit_salesorder"):
            raise PermissionDenied
        form = OrderHeaderForm(request.POST, initial=initial, user=request.user, submitting=submitting)
        formset = OrderLineFormSet(request.POST, user=request.user, submitting=submitting)
        if submission_form_valid(request, form) and formset.is_valid():
            arguments = {"header": form.header(), "lines": formset.line_inputs(), "by": request.user}
            try:
                if submitting:
                    saved = services.order_save_and_submit(order=order, version=form.cleaned_data["version"], **arguments)
                elif order is None:
                    saved = services.order_create(**arguments)
                else:
                    saved = services.order_update_draft(order=order, version=form.cleaned_data["version"], **arguments)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if submitting:
                    done = _("Order %(number)s was submitted for the automatic checks.")
                else:
                    done = _("Draft %(number)s was saved.")
                messages.success(request, done % {"number": saved.number})
                if duplicates := services.order_duplicate_po_numbers(order=saved):
                    messages.warning(
                        request,
                        _("The customer PO number %(po)s was already used on %(orders)s. Check this is not a duplicate.")
                        % {"po": saved.customer_po, "orders": ", ".join(duplicates)},
                    )
                return redirect(saved)
        else:
            messages.error(request, _("The order was not saved: correct the marked fields."))
            if formset.over_limit:  # a tampered or absurd line count: refused as a bad request
                return render(request, ENTRY_TEMPLATE, {"form": form, "order": order, **_lines_context(formset)}, status=400)
    else:
        form = OrderHeaderForm(initial=initial or {}, user=request.user)
        formset = OrderLineFormSet(line_data(line_rows_for(order) if order else []), user=request.user)
        formset.is_valid()
    context = {"form": form, "order": order, **_lines_context(formset)}
    return render(request, ENTRY_TEMPLATE, context)


@permission_required("orders.add_salesorder", raise_exception=True)
@submitted_once("orders.create", form=True)
def order_create(request):
    """Enter a new order: saved as a draft, or saved and submitted at once."""
    return _entry_page(request, order=None)


@permission_required("orders.change_salesorder", raise_exception=True)
@submitted_once("orders.edit", form=True)
def order_edit(request, pk: int):
    """Edit a draft; a save based on an outdated version is refused."""
    order = selectors.order_for_edit(pk=pk)
    if not services.order_may_change(order=order, actor=request.user):
        raise PermissionDenied  # a colleague's draft: readable, not editable
    if not order.is_editable:
        messages.error(request, _("Order %(number)s is no longer a draft and cannot be edited.") % {"number": order.number})
        return redirect(order)
    return _entry_page(request, order=order)


@require_POST
@entry_permission
def order_lines(request):
    """The entry form's lines recomputed from the posted form, after a scan, an added product or a removed line.

    Nothing is written: the draft stays in the form until it is saved.
    """
    rows = line_rows_from(request.POST)
    operation = request.POST.get("op", "recalc")
    feedback, scanned = "", None
    if operation == "scan":
        code = request.POST.get("scan_code", "").strip()
        product = inventory_selectors.product_by_code(code=code) if code else None
        if not code:
            feedback = _("Scan a barcode or type a SKU.")
        elif product is None:
            feedback = _("No product has the barcode or SKU “%(code)s”.") % {"code": code[:60]}
        elif not product.is_active:
            feedback = _("%(product)s is no longer sold.") % {"product": product}
        else:
            rows, scanned = line_rows_add(rows, product), product
    elif operation == "add":
        product = Product.objects.filter(pk=_int(request.POST.get("add_product"))).first()
        if product is None or not product.is_active:
            feedback = _("That product cannot be ordered.")
        else:
            rows, scanned = line_rows_add(rows, product), product
    elif operation == "remove":
        index = _int(request.POST.get("remove_index"))
        if index is None or not 0 <= index < len(rows):
            return JsonResponse({"error": _("There is no such line.")}, status=400)
        rows = line_rows_remove(rows, index)
    elif operation != "recalc":
        return JsonResponse({"error": _("Unknown operation.")}, status=400)
    formset = OrderLineFormSet(line_data(rows), user=request.user)
    formset.is_valid()
    return render(request, f"{ENTRY_TEMPLATE}#lines", _lines_context(formset, feedback=feedback, scanned=scanned))


@require_GET
@entry_permission
def order_customer_search(request):
    """Customers matching what was typed so far, for the entry form."""
    query = request.GET.get("q", "").strip()[:100]
    customers = list(customer_search(query=query, limit=SEARCH_LIMIT)) if query else []
    return render(request, f"{ENTRY_TEMPLATE}#customer_results", {"customers": customers, "query": query})


@require_GET
@entry_permission
def order_customer_pick(request):
    """The entry form's customer block for the chosen customer (or empty, to choose again)."""
    customer = Customer.objects.filter(pk=_int(request.GET.get("customer"))).first()
    initial = OrderHeaderForm.initial_for_customer(customer) if customer else {}
    form = OrderHeaderForm(initial=initial, user=request.user)
    return render(request, f"{ENTRY_TEMPLATE}#customer", {"form": form})


@require_GET
@entry_permission
def order_product_search(request):
    """Active products matching what was typed so far, with their free stock."""
    query = request.GET.get("q", "").strip()[:100]
    products = list(inventory_selectors.product_search(query=query, limit=SEARCH_LIMIT)) if query else []
    availability = _availability([p.pk for p in products]) or {}
    results = [(product, availability.get(product.pk)) for product in products]
    return render(request, f"{ENTRY_TEMPLATE}#product_results", {"results": results, "query": query})


# --- the order's actions -----------------------------------------------------------------------


@require_POST
@permission_required("orders.submit_salesorder", raise_exception=True)
def order_submit(request, pk: int):
    """Submit a saved draft."""
    order = get_object_or_404(SalesOrder, pk=pk)
    try:
        services.order_submit(order=order, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Order %(number)s was submitted for the automatic checks.") % {"number": order.number})
    return redirect(order)


@permission_required("orders.cancel_salesorder", raise_exception=True)
def order_cancel(request, pk: int):
    """Cancel an order before its first shipment, with a reason."""
    order = get_object_or_404(SalesOrder.objects.select_related("customer"), pk=pk)
    if not services.order_may_change(order=order, actor=request.user):
        raise PermissionDenied  # a colleague's order
    if not selectors.order_allowed_actions(order=order, user=request.user)["cancel"]:
        messages.error(request, _("Order %(number)s cannot be cancelled any more.") % {"number": order.number})
        return redirect(order)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_cancel(order=order, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Order %(number)s was cancelled.") % {"number": order.number})
            return redirect(order)
    return render(request, "orders/salesorder_cancel.html", {"order": order, "form": form})


@require_POST
@permission_required("orders.change_salesorder", raise_exception=True)
def order_reopen(request, pk: int):
    """Bring a rejected order back to draft to fix it."""
    order = get_object_or_404(SalesOrder, pk=pk)
    try:
        services.order_reopen(order=order, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Order %(number)s is a draft again: fix it and submit it.") % {"number": order.number})
        return redirect("orders:edit", pk=order.pk)
    return redirect(order)

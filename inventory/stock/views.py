"""Stock pages: overview, product stock and ledger, goods receipt, adjustment, reversal, allocation,
low-stock alerts and replenishment. Each view parses, calls one service, and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from inventory.models import LowStockAlert, Product, ReplenishmentRequest, StockLevel, StockMovement, Warehouse
from inventory.replenishment import services as replenishment
from inventory.stock import selectors
from inventory.stock.filters import AlertFilter, MovementFilter, ReplenishmentFilter, StockLevelFilter
from inventory.stock.forms import (
    AdjustForm,
    PlanningForm,
    ProposalRequestForm,
    ReceiptForm,
    ReplenishmentForm,
    ReplenishmentReceiveForm,
    ReverseForm,
    describe_received,
)
from inventory.stock.services import stock_adjust, stock_level_set_planning, stock_receive, stock_reverse_movement

PAGE_SIZE = 50
MOVEMENTS_PAGE_SIZE = 25


def _page(request, queryset, size=PAGE_SIZE):
    return CappedPaginator(queryset, size).get_page(request.GET.get("page"))


# --- stock overview and product stock ---------------------------------------------------------


@permission_required("inventory.view_stocklevel", raise_exception=True)
@require_GET
def stock_overview(request):
    """Product × warehouse: on hand, reserved, available, safety stock; filters and paging."""
    filterset = StockLevelFilter(request.GET, queryset=selectors.stock_rows())
    context = {"filter": filterset, "page_obj": _page(request, filterset.qs)}
    if request.user.has_perm("inventory.view_ledgercheck"):
        context["ledger_check"] = selectors.latest_ledger_check()
    return render(request, "inventory/stocklevel_list.html", context)


@permission_required("inventory.view_stocklevel", raise_exception=True)
@require_GET
def product_stock(request, pk: int):
    """One product's stock per warehouse and, for those who may see it, its ledger."""
    product = get_object_or_404(Product, pk=pk)
    context = {"product": product, "levels": selectors.product_levels(product=product)}
    if request.user.has_perm("inventory.view_stockmovement"):
        filterset = MovementFilter(request.GET, queryset=selectors.product_movements(product=product))
        context.update(filter=filterset, page_obj=_page(request, filterset.qs, MOVEMENTS_PAGE_SIZE))
    return render(request, "inventory/stocklevel_product.html", context)


@permission_required("inventory.manage_replenishment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_planning(request, pk: int, warehouse_id: int):
    """Safety stock, reorder point and reorder quantity of one product in one warehouse."""
    product = get_object_or_404(Product, pk=pk)
    warehouse = get_object_or_404(Warehouse, pk=warehouse_id)
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first() or StockLevel(
        product=product, warehouse=warehouse
    )
    initial = {
        "safety_stock": level.safety_stock,
        "reorder_point": level.reorder_point,
        "reorder_quantity": level.reorder_quantity,
    }
    form = PlanningForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            stock_level_set_planning(product=product, warehouse=warehouse, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request, _("Planning of %(sku)s in %(warehouse)s saved.") % {"sku": product.sku, "warehouse": warehouse.code}
            )
            return redirect("inventory:product_stock", pk=product.pk)
    return render(
        request,
        "inventory/stocklevel_planning.html",
        {"product": product, "warehouse": warehouse, "level": level, "form": form},
        status=400 if form.errors else 200,
    )


# --- receipts, adjustments, reversals ---------------------------------------------------------


@permission_required("inventory.receive_stock", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("inventory.receipt", form=True)
def receipt(request):
    """Count what arrived (scan each unit or type quantities) and post one receipt movement per product."""
    initial = {"warehouse": request.GET.get("warehouse")} if request.GET.get("warehouse", "").isdigit() else None
    form = ReceiptForm(request.POST or None, initial=initial)
    if request.method == "POST" and submission_form_valid(request, form):
        data = form.cleaned_data
        try:
            movements = stock_receive(
                warehouse=data["warehouse"], quantities=data["lines"], reference=data["reference"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("Receipt %(document)s posted to %(warehouse)s: %(what)s. Waiting orders that need them are allocated.")
                % {
                    "document": movements[0].document,
                    "warehouse": data["warehouse"].code,
                    "what": describe_received(data["lines"]),
                },
            )
            return redirect(f"{reverse('inventory:receipt')}?warehouse={data['warehouse'].pk}")
    return render(request, "inventory/stockmovement_receipt.html", {"form": form}, status=400 if form.errors else 200)


@permission_required("inventory.receive_stock", raise_exception=True)
@require_GET
def product_lookup(request):
    """JSON for the scanner: the product a barcode or SKU names, or a 404 with an error message."""
    code = request.GET.get("code", "").strip()[:60]
    product = selectors.product_by_code(code=code) if code else None
    if product is None:
        message = _("No product has the barcode or SKU “%(code)s”.") % {"code": code} if code else _("Scan or type a code.")
        return JsonResponse({"error": message}, status=404 if code else 400)
    return JsonResponse({"id": product.pk, "sku": product.sku, "name": product.name, "barcode": product.barcode or ""})


@permission_required("inventory.adjust_stock", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("inventory.adjust", form=True)
def adjust(request):
    """Correct a product's stock in one warehouse by a signed quantity, with a reason."""
    initial = {}
    if (product_id := request.GET.get("product", "")).isdigit():
        product = Product.objects.filter(pk=product_id).first()
        if product is not None:
            initial["product"] = product.sku
    if (warehouse_id := request.GET.get("warehouse", "")).isdigit():
        initial["warehouse"] = warehouse_id
    form = AdjustForm(request.POST or None, initial=initial)
    if request.method == "POST" and submission_form_valid(request, form):
        data = form.cleaned_data
        try:
            movement = stock_adjust(
                product=data["product"],
                warehouse=data["warehouse"],
                quantity=data["quantity"],
                reason=data["reason"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error("quantity", str(error))
        else:
            messages.success(
                request,
                _("%(sku)s in %(warehouse)s adjusted by %(qty)+d.")
                % {"sku": movement.product.sku, "warehouse": movement.warehouse.code, "qty": movement.quantity},
            )
            return redirect("inventory:product_stock", pk=movement.product_id)
    return render(request, "inventory/stockmovement_adjust.html", {"form": form}, status=400 if form.errors else 200)


@permission_required("inventory.adjust_stock", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("inventory.reverse", form=True)
def movement_reverse(request, pk: int):
    """Post the exact opposite of a mistaken movement, with a reason; the original stays."""
    movement = get_object_or_404(StockMovement.objects.select_related("product", "warehouse", "created_by"), pk=pk)
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and submission_form_valid(request, form):
        try:
            stock_reverse_movement(movement=movement, reason=form.cleaned_data["reason"], by=request.user)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("The movement was reversed."))
            return redirect("inventory:product_stock", pk=movement.product_id)
    return render(
        request, "inventory/stockmovement_reverse.html", {"movement": movement, "form": form}, status=400 if form.errors else 200
    )


# --- low-stock alerts -------------------------------------------------------------------------


@permission_required("inventory.view_lowstockalert", raise_exception=True)
@require_GET
def alert_list(request):
    """Low-stock alerts, open ones by default, newest first."""
    data = request.GET.copy()
    if "state" not in data:
        data["state"] = "open"
    alerts = LowStockAlert.objects.select_related("product", "warehouse").order_by("-raised_at", "-pk")
    filterset = AlertFilter(data, queryset=alerts)
    return render(request, "inventory/lowstockalert_list.html", {"filter": filterset, "page_obj": _page(request, filterset.qs)})


# --- replenishment ----------------------------------------------------------------------------


@permission_required("inventory.view_replenishmentrequest", raise_exception=True)
@require_GET
def replenishment_list(request):
    """What to reorder per warehouse (the proposal) and the replenishment requests."""
    proposal = replenishment.with_proposed_quantities(replenishment.replenishment_proposal())
    warehouses: dict[Warehouse, list] = {}
    for level in proposal:
        warehouses.setdefault(level.warehouse, []).append(level)
    main = replenishment.main_warehouse()
    needs = replenishment.backorder_needs()
    if main is not None and needs:
        warehouses.setdefault(main, [])
    requests = ReplenishmentRequest.objects.select_related("warehouse", "created_by").order_by("-created_at", "-pk")
    filterset = ReplenishmentFilter(request.GET, queryset=requests)
    return render(
        request,
        "inventory/replenishmentrequest_list.html",
        {
            "proposal": list(warehouses.items()),
            "backorder_needs": needs,
            "main_warehouse": main,
            "filter": filterset,
            "page_obj": _page(request, filterset.qs),
        },
    )


@permission_required("inventory.manage_replenishment", raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("inventory.replenishment_create", form=True)
def replenishment_create(request):
    """A draft request typed in (or scanned): warehouse, supplier, products and quantities."""
    form = ReplenishmentForm(request.POST or None)
    if request.method == "POST" and submission_form_valid(request, form):
        data = form.cleaned_data
        try:
            created = replenishment.replenishment_create(
                warehouse=data["warehouse"],
                quantities=data["lines"],
                by=request.user,
                supplier=data["supplier"],
                note=data["note"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Replenishment request %(number)s created.") % {"number": created.number})
            return redirect(created)
    return render(request, "inventory/replenishmentrequest_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required("inventory.manage_replenishment", raise_exception=True)
@require_POST
@submitted_once("inventory.replenishment_from_proposal")
def replenishment_from_proposal(request):
    """A draft request with every line the proposal suggests for one warehouse."""
    form = ProposalRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an active warehouse."))
        return redirect("inventory:replenishment_list")
    try:
        created = replenishment.replenishment_create_from_proposal(warehouse=form.cleaned_data["warehouse"], by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("inventory:replenishment_list")
    messages.success(request, _("Replenishment request %(number)s created from the proposal.") % {"number": created.number})
    return redirect(created)


def _request_or_404(pk: int) -> ReplenishmentRequest:
    return get_object_or_404(ReplenishmentRequest.objects.select_related("warehouse", "created_by"), pk=pk)


def _request_lines(request_obj: ReplenishmentRequest):
    return list(request_obj.lines.select_related("product").order_by("product__sku", "pk"))


REPLENISHMENT_ACTIONS = ["place", "cancel", "receive_part", "receive_rest"]


def _render_request(request, request_obj: ReplenishmentRequest, lines, receive_form, status: int = 200):
    """The request page: lines, the actions this user may take now, the delivery form, the timeline."""
    return render(
        request,
        "inventory/replenishmentrequest_detail.html",
        {
            "request_obj": request_obj,
            "lines": lines,
            "receive_form": receive_form,
            "allowed": allowed_transitions(request_obj, request.user, REPLENISHMENT_ACTIONS),
            "events": replenishment.replenishment_events(request=request_obj),
        },
        status=status,
    )


@permission_required("inventory.view_replenishmentrequest", raise_exception=True)
@require_GET
def replenishment_detail(request, pk: int):
    """A request: what was ordered and received, its history; buttons for what this user may do now."""
    request_obj = _request_or_404(pk)
    lines = _request_lines(request_obj)
    return _render_request(request, request_obj, lines, ReplenishmentReceiveForm(lines=lines))


@permission_required("inventory.manage_replenishment", raise_exception=True)
@require_POST
@submitted_once("inventory.replenishment_place")
def replenishment_place(request, pk: int):
    request_obj = _request_or_404(pk)
    try:
        replenishment.replenishment_place(request=request_obj, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Request %(number)s is ordered.") % {"number": request_obj.number})
    return redirect(request_obj)


@permission_required("inventory.manage_replenishment", raise_exception=True)
@require_POST
def replenishment_cancel(request, pk: int):
    request_obj = _request_or_404(pk)
    try:
        replenishment.replenishment_cancel(request=request_obj, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Request %(number)s is cancelled.") % {"number": request_obj.number})
    return redirect(request_obj)


@permission_required("inventory.receive_stock", raise_exception=True)
@require_POST
@submitted_once("inventory.replenishment_receive", form=True)
def replenishment_receive(request, pk: int):
    """Goods of the request arrived: receipt movements for the quantities entered per line."""
    request_obj = _request_or_404(pk)
    lines = _request_lines(request_obj)
    form = ReplenishmentReceiveForm(request.POST, lines=lines)
    if submission_form_valid(request, form):
        try:
            received = replenishment.replenishment_receive(
                request=request_obj,
                quantities=form.cleaned_data["quantities"],
                by=request.user,
                reference=form.cleaned_data["reference"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("Goods received for %(number)s; it is now %(state)s.")
                % {"number": received.number, "state": received.get_state_display()},
            )
            return redirect(received)
    return _render_request(request, request_obj, lines, form, status=400)

"""Product catalogue pages: list, create, edit, detail, deactivate, import and export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError, form_error_from
from config.imports import export_filename, export_response, import_page
from config.pagination import CappedPaginator
from inventory.catalog.filters import product_list as product_filterset
from inventory.catalog.forms import ProductForm
from inventory.catalog.imports import ProductImport, product_export_table
from inventory.catalog.services import product_create as create_product
from inventory.catalog.services import product_set_active, product_update
from inventory.models import Product

PAGE_SIZE = 25


@permission_required("inventory.view_product", raise_exception=True)
def product_list(request):
    """The catalogue: search by SKU, name or barcode; filter by active and unit."""
    filterset = product_filterset(filters=request.GET)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page_obj": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "inventory/product_list.html#results", context)
    return render(request, "inventory/product_list.html", context)


@permission_required("inventory.add_product", raise_exception=True)
def product_create(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = create_product(data=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Product %(product)s was created.") % {"product": product})
            return redirect(product)
    return render(request, "inventory/product_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required("inventory.change_product", raise_exception=True)
def product_edit(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_update(product=product, data=form.cleaned_data, by=request.user)
        except (DomainError, ValidationError) as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Product %(product)s was saved.") % {"product": product})
            return redirect(product)
    product.refresh_from_db()
    return render(request, "inventory/product_form.html", {"form": form, "product": product}, status=400 if form.errors else 200)


@permission_required("inventory.view_product", raise_exception=True)
def product_detail(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    return render(request, "inventory/product_detail.html", {"product": product})


@require_POST
@permission_required("inventory.change_product", raise_exception=True)
def product_deactivate(request, pk: int):
    """Products are never deleted (order lines name them): they are taken off sale."""
    product = product_set_active(product=get_object_or_404(Product, pk=pk), active=False, by=request.user)
    messages.success(request, _("%(product)s is inactive: it can no longer be put on new orders.") % {"product": product})
    return redirect(product)


@require_POST
@permission_required("inventory.change_product", raise_exception=True)
def product_activate(request, pk: int):
    product = product_set_active(product=get_object_or_404(Product, pk=pk), active=True, by=request.user)
    messages.success(request, _("%(product)s is on sale again.") % {"product": product})
    return redirect(product)


@permission_required(["inventory.import_product", "inventory.add_product", "inventory.change_product"], raise_exception=True)
def product_import(request):
    """Upload → every row checked and shown → all rows saved in one transaction, or none."""
    return import_page(
        request,
        spec=ProductImport(),
        template_name="inventory/product_import.html",
        session_key="import:products",
        done_url=reverse("inventory:product_list"),
    )


@permission_required("inventory.view_product", raise_exception=True)
def product_export(request):
    """The list as filtered on the page, as CSV (UTF-8 with BOM) or XLSX."""
    fmt = request.GET.get("format", "csv")
    filterset = product_filterset(filters=request.GET)
    headers, rows = product_export_table(filterset.qs, include_cost=request.user.has_perm("inventory.change_product"))
    return export_response(
        fmt="xlsx" if fmt == "xlsx" else "csv",
        filename=export_filename("products"),
        headers=headers,
        rows=rows,
        sheet_title="products",
    )

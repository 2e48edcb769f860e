"""Products in and out of spreadsheets: columns, matching by SKU, saving through the catalogue services."""

from __future__ import annotations

from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from config.imports import Column, ImportRowError, ImportSpec
from inventory.catalog.forms import ProductImportForm
from inventory.catalog.services import product_create, product_update
from inventory.models import Product

PRODUCT_COLUMNS = [
    Column("sku", gettext_lazy("SKU"), required=True, aliases=("item code", "货号", "商品编码", "编码")),
    Column("name", gettext_lazy("Name"), aliases=("product name", "品名", "商品名称", "名称")),
    Column("barcode", gettext_lazy("Barcode"), aliases=("ean", "ean-13", "ean13", "条码", "条形码")),
    Column("unit", gettext_lazy("Unit"), aliases=("uom", "单位")),
    Column("list_price", gettext_lazy("List price"), aliases=("price", "单价", "标价", "价格")),
    Column("cost", gettext_lazy("Cost"), aliases=("成本", "成本价")),
    Column("tax_rate", gettext_lazy("Tax rate"), aliases=("vat", "税率")),
    Column("tax_classification_code", gettext_lazy("Tax classification code"), aliases=("税收分类编码", "税收编码")),
    Column("min_price", gettext_lazy("Minimum price"), aliases=("最低价", "最低售价")),
    Column("max_discount_percent", gettext_lazy("Maximum discount %"), aliases=("max discount", "最大折扣", "最大折扣%")),
    Column("is_active", gettext_lazy("Active"), aliases=("enabled", "状态", "是否有效")),
    Column("description", gettext_lazy("Description"), aliases=("描述", "说明")),
    Column("category", gettext_lazy("Category"), aliases=("品类", "类别", "分类")),
]


class ProductImport(ImportSpec):
    """Rows whose SKU exists update that product (whatever the SKU's case); others create one.

    Tax rates may be 0.13, 13 or 13% (the form's TaxRateField reads all three).
    """

    model = Product
    form_class = ProductImportForm
    columns = PRODUCT_COLUMNS
    match_key = "sku"
    unique_in_file = ("barcode",)

    def existing_by_key(self, keys):
        if not keys:
            return {}
        found = {
            p.sku_upper: p
            for p in Product.objects.annotate(sku_upper=Upper("sku")).filter(sku_upper__in={k.upper() for k in keys})
        }
        return {key: found[key.upper()] for key in keys if key.upper() in found}

    def make_form(self, *, values, existing):
        if existing is not None and "sku" in values:
            values = {**values, "sku": existing.sku}  # matching ignored the case: keep the stored SKU
        return super().make_form(values=values, existing=existing)

    def row_label(self, *, form, existing) -> str:
        if existing is not None:
            return str(existing)
        return f"{form.data.get('sku', '')} {form.data.get('name', '')}".strip()

    def save(self, *, form, existing, by, filename: str):
        data = dict(form.cleaned_data)
        try:
            if existing is None:
                return product_create(data=data, by=by)
            return product_update(product=existing, data=data, by=by)
        except DomainError as exc:
            raise ImportRowError(str(exc), field=exc.field)


def product_export_table(products, *, include_cost: bool = True) -> tuple[list[str], list[list]]:
    """Headers (labels in the user's language) and one row per product, importable again.

    Cost is left out for people who may not see it (it is not needed to re-import prices).
    """
    columns = [c for c in PRODUCT_COLUMNS if include_cost or c.key != "cost"]
    headers = [str(c.label) for c in columns]
    rows = []
    for p in products:
        values = {
            "sku": p.sku,
            "name": p.name,
            "category": p.category,
            "barcode": p.barcode or "",
            "unit": p.get_unit_display(),
            "list_price": p.list_price,
            "cost": p.cost,
            "tax_rate": p.tax_rate,
            "tax_classification_code": p.tax_classification_code,
            "min_price": p.min_price,
            "max_discount_percent": p.max_discount_percent,
            "is_active": p.is_active,
            "description": p.description,
        }
        rows.append([values[c.key] for c in columns])
    return headers, rows

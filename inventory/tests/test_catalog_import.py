from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from config.actors import Actor
from config.imports import ImportRejected, import_commit, import_dry_run, read_table
from inventory.catalog.imports import ProductImport
from inventory.models import Product
from tests.downloads import body

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def upload(text: str | bytes, name="products.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding) if isinstance(text, str) else text)


def run(text, **kwargs):
    spec = ProductImport()
    return spec, read_table(upload(text, **kwargs), columns=spec.columns)


def test_product_rows_are_checked_row_by_row():
    ProductFactory(sku="CUP-500-SS", barcode="6901234567892")
    content = (
        "sku,name,barcode,unit,list_price,tax_rate,min_price\n"
        "TEA-250,西湖龙井茶 250g,6920000000005,box,268.00,13%,220\n"  # 2 ok (EAN valid)
        "TEA-500,西湖龙井茶 500g,6920000000006,box,498.00,0.13,\n"  # 3 bad check digit
        "MUG-01,陶瓷马克杯,6901234567892,pcs,35,13,\n"  # 4 barcode taken by CUP-500-SS
        "BAG-01,帆布袋,6920000000012,piece,-5,9,\n"  # 5 negative price
        "tea-250,重复,,box,1,0,\n"  # 6 SKU again in the file
        "PEN-01,中性笔,6920000000012,pcs,2.5,6%,3\n"  # 7 barcode of row 5; min above list
    )
    spec, table = run(content)
    result = import_dry_run(spec=spec, table=table)
    by_row = {o.number: o for o in result.outcomes}
    assert by_row[2].ok and by_row[2].form.cleaned_data["tax_rate"] == Decimal("0.1300")
    assert "not a valid EAN-13" in by_row[3].errors[0].message and by_row[3].errors[0].column == "Barcode"
    assert any("already exists" in e.message for e in by_row[4].errors)
    assert by_row[5].ok is False and any(e.column == "List price" for e in by_row[5].errors)
    assert by_row[5].form.cleaned_data.get("unit") == "pcs", "units may be given by their label"
    assert "already in row 2" in by_row[6].errors[0].message
    messages = {(e.column, e.message) for e in by_row[7].errors}
    assert ("Barcode", "“6920000000012” is already in row 5 of this file.") in messages
    assert any("cannot be above the list price" in m for _c, m in messages)


def test_existing_sku_in_another_case_updates_that_product():
    product = ProductFactory(sku="CUP-500-SS", list_price=Decimal("89.00"), name="保温杯")
    spec, table = run("sku,list_price\ncup-500-ss,95.5\n")
    user = Actor.system("import")
    result = import_commit(spec=spec, table=table, by=user)
    assert result.update_count == 1
    product.refresh_from_db()
    assert product.list_price == Decimal("95.50") and product.sku == "CUP-500-SS" and product.name == "保温杯"


def test_the_category_column_sets_the_products_category_and_a_file_without_it_keeps_it():
    product = ProductFactory(sku="TEA-250", category="茶叶")
    spec, table = run("货号,名称,标价,品类\nTEA-500,龙井 500g,498,茶叶\nTEA-250,龙井 250g,268,礼盒\n")
    import_commit(spec=spec, table=table, by=Actor.system("import"))
    assert Product.objects.get(sku="TEA-500").category == "茶叶"
    spec, table = run("sku,list_price\nTEA-250,300\n")
    import_commit(spec=spec, table=table, by=Actor.system("import"))
    product.refresh_from_db()
    assert (product.category, product.list_price) == ("礼盒", Decimal("300.00"))


def test_import_can_deactivate_but_never_deletes():
    product = ProductFactory(sku="OLD-1")
    spec, table = run("sku,name,active\nOLD-1,旧款,否\n")
    import_commit(spec=spec, table=table, by=Actor.system("import"))
    product.refresh_from_db()
    assert not product.is_active and Product.objects.count() == 1


def test_one_bad_product_row_imports_nothing():
    spec, table = run("sku,name,list_price\nA-1,甲,1\nA-2,乙,2\nA-3,丙,free\n")
    with pytest.raises(ImportRejected):
        import_commit(spec=spec, table=table, by=Actor.system("import"))
    assert not Product.objects.exists()


def test_new_product_without_price_is_refused():
    spec, table = run("sku,name\nA-1,甲\n")
    result = import_dry_run(spec=spec, table=table)
    assert [(e.column, e.message) for e in result.outcomes[0].errors] == [("List price", "This field is required.")]


def test_gb18030_product_file():
    spec, table = run("货号,品名,单价\nTEA-250,西湖龙井茶 250g,268\n", encoding="gb18030")
    assert import_dry_run(spec=spec, table=table).ok


def test_product_import_page_commit(client_as):
    client = client_as("warehouse")
    url = reverse("inventory:product_import")
    response = client.post(url, {"file": upload("sku,name,list_price,barcode\nTEA-250,西湖龙井茶 250g,268,6920000000005\n")})
    assert response.context["dry_run"].create_count == 1 and not Product.objects.exists()
    response = client.post(url, {"commit": "1", "token": response.context["token"]})
    assert response.status_code == 302
    assert Product.objects.get().barcode == "6920000000005"


def test_product_export_csv_and_xlsx_round_trip(client_as):
    ProductFactory(
        sku="CUP-500-SS",
        name="不锈钢保温杯 500ml",
        barcode="0012345678905",
        list_price=Decimal("89.00"),
        max_discount_percent=Decimal("10"),
        cost=Decimal("41.50"),
    )
    ProductFactory(sku="OLD-1", is_active=False)
    client = client_as("warehouse")
    response = client.get(reverse("inventory:product_export"), {"format": "csv", "is_active": "true"})
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert body(response).startswith(b"\xef\xbb\xbf")
    assert [r[0] for r in rows[1:]] == ["CUP-500-SS"]
    assert rows[1][2] == "0012345678905", "leading zeros of the barcode survive"
    response = client.get(reverse("inventory:product_export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet["C2"].value == "0012345678905" and sheet["C2"].data_type == "s"
    spec, table = run(body(response), name="products.xlsx")
    result = import_dry_run(spec=spec, table=table)
    assert result.ok and [(o.action, o.changes) for o in result.outcomes] == [("update", []), ("update", [])]


def test_sales_export_leaves_out_cost(client_as):
    ProductFactory(cost=Decimal("41.50"))
    response = client_as("sales").get(reverse("inventory:product_export"), {"format": "csv"})
    header = next(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert "Cost" not in header and "41.50" not in body(response).decode("utf-8-sig")

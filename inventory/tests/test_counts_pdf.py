"""The count sheet PDF: a real PDF, every line on it, Chinese names in an embedded CJK font."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib

import pytest
from django.urls import reverse
from weasyprint import HTML

from inventory.counts.views import count_sheet_html
from inventory.tests.factories import ProductFactory, WarehouseFactory, open_count, stock_put

pytestmark = pytest.mark.django_db


def noto_cjk_installed() -> bool:
    if not shutil.which("fc-list"):
        return False
    fonts = subprocess.run(["fc-list", ":family=Noto Sans CJK SC"], capture_output=True, text=True, check=False).stdout
    return bool(fonts.strip())


@pytest.fixture
def count(make_user):
    clerk = make_user("warehouse")
    warehouse = WarehouseFactory(code="HZ", name="杭州仓")
    names = ["龙井茶 250克", "青花瓷茶杯", "竹制托盘"]
    for i, name in enumerate(names):
        product = ProductFactory(sku=f"HZ-{i:03d}", name=name)
        stock_put(product=product, warehouse=warehouse, quantity=7 + i)
    return open_count(warehouse=warehouse, by=clerk)


def test_count_sheet_is_a_pdf_served_inline_to_the_warehouse(client_as, count):
    response = client_as("warehouse").get(reverse("inventory:count_sheet", args=[count.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{count.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_count_sheet_lists_every_product_with_an_empty_counted_box(count):
    html = count_sheet_html(count=count)
    for name in ["龙井茶 250克", "青花瓷茶杯", "竹制托盘"]:
        assert name in html
    assert count.number in html and "杭州仓" in html
    assert html.count('<td class="box"></td>') == 3
    assert '"Noto Sans CJK SC"' in html


def test_count_sheet_is_blind_unless_system_quantities_are_asked_for(count):
    def quantity_cells(html):
        return re.findall(r'<td class="num">(\d+)</td>', html)

    assert quantity_cells(count_sheet_html(count=count)) == []
    assert quantity_cells(count_sheet_html(count=count, with_system=True)) == ["7", "8", "9"]


def test_a_long_count_sheet_runs_over_several_pages(make_user):
    clerk = make_user("warehouse")
    warehouse = WarehouseFactory()
    for i in range(120):
        ProductFactory(sku=f"LONG-{i:04d}", name=f"长清单商品 {i}")
    count = open_count(warehouse=warehouse, by=clerk, sku_prefix="LONG-")
    short_doc = HTML(
        string=count_sheet_html(count=open_count(warehouse=WarehouseFactory(), by=clerk, sku_prefix="LONG-0001"))
    ).render()
    long_doc = HTML(string=count_sheet_html(count=count)).render()
    assert len(short_doc.pages) == 1
    assert len(long_doc.pages) >= 3


@pytest.mark.skipif(not noto_cjk_installed(), reason="fonts-noto-cjk is not installed")
def test_chinese_names_are_set_in_an_embedded_noto_cjk_font(count):
    pdf = HTML(string=count_sheet_html(count=count)).write_pdf(uncompressed_pdf=True)
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", pdf))
    assert any(b"Noto" in font and b"CJK" in font for font in fonts), fonts
    assert b"NotoSansCJK" in pdf  # the embedded font program's own name


def test_count_sheet_is_on_the_company_letterhead_in_the_readers_language(count, settings):
    settings.COMPANY_NAME = "杭州示例商贸有限公司"
    english = count_sheet_html(count=count, language="en")
    chinese = count_sheet_html(count=count, language="zh-hans")
    assert "杭州示例商贸有限公司" in english and "杭州示例商贸有限公司" in chinese
    assert 'lang="en"' in english and "Stock count sheet" in english
    assert 'lang="zh-hans"' in chinese and "Stock count sheet" not in chinese


@pytest.mark.skipif(not noto_cjk_installed(), reason="fonts-noto-cjk is not installed")
def test_the_sheet_served_to_a_chinese_reader_embeds_the_cjk_font(client_as, count):
    client = client_as("warehouse")
    response = client.get(reverse("inventory:count_sheet", args=[count.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf_streams(response.content)


def pdf_streams(pdf: bytes) -> bytes:
    """Every stream of a PDF, inflated where it is compressed (font names live inside them)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            inflated.append(match.group(1))
    return b"".join(inflated)

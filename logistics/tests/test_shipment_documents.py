"""The shipment's PDFs: pick list by bin, a packing slip and a label per parcel; Chinese names in a
CJK font; the label's Code 128 barcode encodes the waybill number and its QR code the tracking link."""

from __future__ import annotations

import base64
import re
from decimal import Decimal

import pytest
import segno
from barcode.charsets import code128
from django.urls import reverse
from weasyprint import HTML

from inventory.tests.test_counts_pdf import noto_cjk_installed
from logistics.shipments.documents import code128_svg, document_html, qr_data_uri
from logistics.tests.factories import allocated_order, packed_shipment, set_location, ship, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(make_user, warehouse):
    clerk = make_user("warehouse")
    tea = stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克", barcode="6901234567892")
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯")
    plate = stocked_product(stock={warehouse: 10}, sku="PLT-003", name="竹制托盘")
    set_location(tea, warehouse, "C-01-1")
    set_location(cup, warehouse, "A-05-2")
    set_location(plate, warehouse, "B-02-4")
    order = allocated_order(lines=[(tea, 2), (cup, 1), (plate, 3)])
    shipment = packed_shipment(order=order, warehouse=warehouse, by=clerk, parcels=2)
    return ship(shipment, by=clerk, waybills=["SF1234567890", "SF1234567891"], cod_amount=Decimal("256.00"))


def decode_code128(svg: str) -> str:
    """Read the bars back: rect widths → module pattern → Code 128 symbols → text (sets B and C)."""
    bars = [(float(x), float(w)) for x, w in re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', svg)]
    module = min(w for _x, w in bars)
    start = bars[0][0]
    end = bars[-1][0] + bars[-1][1]
    modules = ["0"] * round((end - start) / module)
    for x, w in bars:
        first = round((x - start) / module)
        for i in range(first, first + round(w / module)):
            modules[i] = "1"
    pattern = "".join(modules)
    values = {code: value for value, code in enumerate(code128.CODES)}
    symbols = [values[pattern[i : i + 11]] for i in range(0, len(pattern) - 13, 11)]
    assert pattern[-13:] == code128.STOP + "11"  # the stop symbol and its termination bar
    start_code, *data, checksum = symbols
    assert checksum == (start_code + sum(i * v for i, v in enumerate(data, start=1))) % 103
    charset = {103: "A", 104: "B", 105: "C"}[start_code]
    b_chars = {value: char for char, value in code128.B.items() if isinstance(value, int) and len(char) == 1}
    text = ""
    for value in data:
        if value in (99, 100, 101):
            charset = {99: "C", 100: "B", 101: "A"}[value]
        elif charset == "C":
            text += f"{value:02d}"
        else:
            text += b_chars[value]
    return text


@pytest.mark.parametrize("waybill", ["SF1234567890", "YT9876543210123", "JT0012AB"])
def test_the_label_barcode_encodes_the_waybill_number(waybill):
    assert decode_code128(code128_svg(waybill)) == waybill


def test_the_label_has_a_barcode_and_qr_per_parcel_sender_receiver_and_cod(shipped, settings):
    html = document_html(kind="label", shipment=shipped)
    assert html.count('class="label"') == 2
    assert "Parcel 1 / 2" in html and "Parcel 2 / 2" in html
    barcodes = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="(SF\d+)"', html)
    assert [alt for _data, alt in barcodes] == ["SF1234567890", "SF1234567891"]
    for data, alt in barcodes:
        assert decode_code128(base64.b64decode(data).decode()) == alt
    assert html.count('src="data:image/svg+xml;charset=utf-8,') == 2  # the QR codes of the tracking links
    address = shipped.order.shipping_address
    assert address.recipient in html and "浦东新区世纪大道 100 号" in html and address.city in html
    assert settings.COMPANY_NAME in html
    assert "256.00" in html


def test_the_qr_code_carries_the_tracking_link():
    url = "https://www.kuaidi100.com/chaxun?com=shunfeng&nu=SF1234567890"
    assert qr_data_uri(url) == segno.make(url, error="m").svg_data_uri(scale=3, border=2)


def test_the_pick_list_is_sorted_by_bin_with_a_checkbox_column(shipped):
    html = document_html(kind="pick_list", shipment=shipped)
    rows = re.findall(r'<tr class="pick-row">\s*<td class="bin">([^<]+)</td>\s*<td>([^<]+)</td>', html)
    assert rows == [("A-05-2", "CUP-002"), ("B-02-4", "PLT-003"), ("C-01-1", "TEA-001")]
    assert html.count('<td class="check"></td>') == 3
    assert "6901234567892" in html and "龙井茶 250克" in html and shipped.order.number in html
    assert '"Noto Sans CJK SC"' in html


def test_each_parcel_has_a_packing_slip_listing_its_contents_without_prices(shipped):
    html = document_html(kind="packing_slip", shipment=shipped)
    slips = html.split('<section class="slip">')[1:]
    assert len(slips) == 2
    assert "Parcel 1 / 2" in slips[0] and "Parcel 2 / 2" in slips[1]
    # packed_shipment puts line 1 and 3 in parcel 1, line 2 in parcel 2
    assert "TEA-001" in slips[0] and "PLT-003" in slips[0] and "CUP-002" not in slips[0]
    assert "CUP-002" in slips[1] and "SF1234567891" in slips[1]
    assert "100.00" not in html and "Unit price" not in html


@pytest.mark.parametrize("kind", ["pick_list", "packing_slip", "label"])
def test_the_pdfs_are_served_to_the_warehouse(client_as, shipped, kind):
    response = client_as("warehouse").get(reverse("logistics:shipment_document", args=[shipped.pk, kind]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert shipped.number in response["Content-Disposition"]


def test_chinese_text_is_set_in_an_embedded_cjk_font(shipped):
    if not noto_cjk_installed():
        pytest.skip("fonts-noto-cjk is not installed")
    pdf = HTML(string=document_html(kind="label", shipment=shipped)).write_pdf(uncompressed_pdf=True)
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", pdf))
    assert any(b"Noto-Sans-CJK-SC" in font for font in fonts), fonts


def test_an_unknown_document_is_404(client_as, shipped):
    assert client_as("warehouse").get(f"/logistics/shipments/{shipped.pk}/invoice.pdf").status_code == 404

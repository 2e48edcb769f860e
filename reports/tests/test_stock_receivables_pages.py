"""The stock and receivables report pages: who may read them, every table with its chart and exports,
bad filters answered on the page, both languages, and a query count that does not grow with rows."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from billing.tests.receivables_factories import issued_invoice, received_payment
from customers.tests.factories import CustomerFactory
from inventory.tests.factories import ProductFactory, WarehouseFactory, stock_put, stock_take
from reports.receivables.snapshot import receivables_rebuild
from reports.stock.snapshot import stock_snapshot_rebuild
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 3, 20)
STOCK = "/reports/stock/"
RECEIVABLES = "/reports/receivables/"
PERIOD = {"start": "2026-03-01", "end": "2026-03-20", "grain": "week"}


@pytest.fixture
def stock(clock):
    """Two warehouses, three products moving over March; the snapshot built."""
    a, b = WarehouseFactory(code="SZ", name="深圳仓"), WarehouseFactory(code="SH", name="上海仓")
    fast, idle, gone = (
        ProductFactory(sku=sku, name=name, cost=D("2.00")) for sku, name in (("F-1", "快"), ("I-1", "慢"), ("G-1", "缺"))
    )
    clock.set(date(2026, 3, 1))
    stock_put(product=fast, warehouse=a, quantity=50)
    stock_put(product=idle, warehouse=b, quantity=30)
    stock_put(product=gone, warehouse=a, quantity=3)
    clock.set(date(2026, 3, 10))
    stock_take(product=fast, warehouse=a, quantity=20)
    stock_take(product=gone, warehouse=a, quantity=3)
    clock.set(TODAY)
    stock_snapshot_rebuild()
    return {"a": a, "b": b, "fast": fast, "idle": idle, "gone": gone}


@pytest.fixture
def book(clock):
    customer = CustomerFactory(name="甲 Alpha")
    issued_invoice(customer=customer, gross="1000.00", issued_on=date(2026, 2, 1), due_date=date(2026, 3, 3))
    issued_invoice(customer=customer, gross="300.00", issued_on=date(2026, 3, 5), due_date=date(2026, 4, 4), paid="100.00")
    received_payment(customer=customer, amount="100.00", on=date(2026, 3, 6))
    clock.set(TODAY)
    receivables_rebuild()
    return customer


# --- who may read them -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "stock_status", "receivables_status"),
    [("warehouse", 200, 403), ("finance", 403, 200), ("manager", 200, 200), ("sales", 403, 403), ("reviewer", 403, 403)],
)
def test_warehouse_reads_stock_finance_receivables_managers_both(client_as, clock, role, stock_status, receivables_status):
    clock.set(TODAY)
    client = client_as(role)
    assert client.get(STOCK).status_code == stock_status
    assert client.get(RECEIVABLES).status_code == receivables_status
    assert client.get(STOCK, {"format": "csv"}).status_code == stock_status


def test_signed_out_readers_are_sent_to_sign_in(client):
    response = client.get(STOCK)
    assert response.status_code == 302 and "login" in response["Location"]


# --- the stock report --------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["levels", "turnover", "slow", "dead", "stockouts", "variances"])
def test_every_stock_table_renders_with_its_filters(client_as, stock, view):
    response = client_as("warehouse").get(STOCK, {**PERIOD, "view": view, "dead_days": "5", "cover_days": "10"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "data:image/svg+xml" in body or view == "variances"  # no count posted: no chart
    assert "as of" in body.lower() or "数据截至" in body


def test_levels_table_shows_each_warehouse_and_the_total(client_as, stock):
    body = client_as("manager").get(STOCK, PERIOD).content.decode()
    assert "深圳仓" in body and "上海仓" in body
    assert "120.00" in body  # 30 fast + 30 idle at 2.00 everywhere
    assert "All warehouses" in body


def test_dead_stock_and_stockouts_follow_the_thresholds_given(client_as, stock):
    client = client_as("warehouse")
    dead = client.get(STOCK, {**PERIOD, "view": "dead", "dead_days": "5"}).content.decode()
    assert "I-1" in dead and "F-1" in dead  # F-1 last shipped 10 days ago
    dead = client.get(STOCK, {**PERIOD, "view": "dead", "dead_days": "15"}).content.decode()
    assert "I-1" in dead and "F-1" not in dead
    stockouts = client.get(STOCK, {**PERIOD, "view": "stockouts"}).content.decode()
    assert "G-1" in stockouts and "F-1" not in stockouts


def test_one_warehouse_narrows_the_tables(client_as, stock):
    body = client_as("warehouse").get(STOCK, {**PERIOD, "view": "turnover", "warehouse": stock["b"].pk}).content.decode()
    assert "I-1" in body and "F-1" not in body


@pytest.mark.parametrize(
    "params",
    [{"dead_days": "abc"}, {"cover_days": "0"}, {"warehouse": "999999"}, {"view": "nonsense"}, {"start": "2026-13-01"}],
)
def test_bad_filters_are_answered_on_the_page(client_as, stock, params):
    client = client_as("warehouse")
    response = client.get(STOCK, params)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert client.get(STOCK, {**params, "format": "csv"}).status_code == 400


def test_stock_exports_csv_xlsx_and_pdf(client_as, stock):
    client = client_as("warehouse")
    response = client.get(STOCK, {**PERIOD, "view": "turnover", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8") if response.streaming else response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["SKU", "Product"]
    assert {row[0] for row in rows[1:]} >= {"F-1", "I-1", "G-1"}
    response = client.get(STOCK, {**PERIOD, "view": "levels", "format": "xlsx"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert any(row[0] == "SZ" for row in values)
    pdf = client.get(STOCK, {**PERIOD, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert (b"".join(pdf.streaming_content) if pdf.streaming else pdf.content).startswith(b"%PDF")


def test_stock_report_in_chinese(client_as, stock):
    client = client_as("manager")
    client.cookies["django_language"] = "zh-hans"
    body = client.get(STOCK, {**PERIOD, "view": "turnover"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "库存报表" in body and "周转率" in body


def test_an_empty_snapshot_shows_the_empty_state(client_as, clock):
    clock.set(TODAY)
    body = client_as("warehouse").get(STOCK, {**PERIOD, "view": "turnover"}).content.decode()
    assert "empty-state" in body


def test_stock_page_queries_do_not_grow_with_products(client_as, clock):
    clock.set(TODAY)
    client = client_as("warehouse")
    warehouse = WarehouseFactory(code="Q")

    def make_rows(n):
        for _ in range(n):
            stock_put(product=ProductFactory(), warehouse=warehouse, quantity=5)
        stock_snapshot_rebuild()

    for view in ("levels", "turnover", "dead"):
        assert_constant_queries(make_rows, lambda view=view: client.get(STOCK, {**PERIOD, "view": view}), sizes=(1, 6))


# --- the receivables report ----------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["ageing", "dso", "overdue", "collections"])
def test_every_receivables_table_renders(client_as, book, view):
    response = client_as("finance").get(RECEIVABLES, {**PERIOD, "view": view})
    assert response.status_code == 200
    assert "data:image/svg+xml" in response.content.decode()


def test_ageing_table_holds_the_buckets_at_each_weeks_end(client_as, book):
    body = client_as("finance").get(RECEIVABLES, {**PERIOD, "view": "ageing"}).content.decode()
    assert "1–30 days" in body and "1,200.00" in body  # 1000 + 200 open on 20 March


def test_receivables_exports_and_chinese(client_as, book):
    client = client_as("manager")
    response = client.get(RECEIVABLES, {**PERIOD, "view": "collections", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8") if response.streaming else response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][1] == "Bank transfer" and rows[-1][-2] == "100.00"
    client.cookies["django_language"] = "zh-hans"
    body = client.get(RECEIVABLES, {**PERIOD, "view": "dso"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "应收报表" in body


def test_receivables_page_queries_do_not_grow_with_days(client_as, clock):
    clock.set(TODAY)
    client = client_as("finance")
    customer = CustomerFactory()

    def make_rows(n):
        for k in range(n):
            issued_invoice(customer=customer, gross="10.00", issued_on=TODAY - timedelta(days=k + 1))
        receivables_rebuild()

    assert_constant_queries(make_rows, lambda: client.get(RECEIVABLES, {**PERIOD, "view": "ageing"}), sizes=(1, 6))

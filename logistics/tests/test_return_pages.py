"""The return pages: opened from the order page by its salesperson, approved and received by the
warehouse, the list with filters and export, the label PDF, the panels and the home queue; who may
see and do what."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from inventory.models import StockLevel
from logistics.returns.documents import return_label_html
from logistics.returns.models import ReturnRequest, ReturnState
from logistics.returns.services import return_open
from logistics.tests.factories import stocked_product
from logistics.tests.returns_factories import approved_return, shipped_order
from orders.models import SalesOrderLine
from tests.downloads import body
from tests.queries import assert_constant_queries, queries_for
from tests.submissions import with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(warehouse):
    return stocked_product(stock={warehouse: 10}, sku="TEA-001", name="龙井茶 250克")


@pytest.fixture
def seller(make_user):
    return make_user("sales")


@pytest.fixture
def order(tea, warehouse, clerk, seller):
    return shipped_order(lines=[(tea, 5)], warehouse=warehouse, clerk=clerk, salesperson=seller)


def test_the_salesperson_opens_a_return_from_the_order_page_and_the_warehouse_receives_it(
    client, order, seller, clerk, warehouse, tea
):
    client.force_login(seller)
    order_page = client.get(order.get_absolute_url()).content.decode()
    create_url = reverse("logistics:return_create", args=[order.pk])
    assert create_url in order_page and "Open a return" in order_page
    line = order.lines.get()
    assert "龙井茶 250克" in client.get(create_url).content.decode()

    too_many = client.post(create_url, with_token({f"line_{line.pk}": 6, "reason": "defective"}))
    assert too_many.status_code == 422 and not ReturnRequest.objects.exists()
    no_reason = client.post(create_url, with_token({f"line_{line.pk}": 2, "reason": ""}))
    assert no_reason.status_code == 422 and not ReturnRequest.objects.exists()
    response = client.post(create_url, with_token({f"line_{line.pk}": 2, "reason": "defective", "details": "盖子破了"}))
    return_request = ReturnRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == return_request.get_absolute_url()
    detail = client.get(return_request.get_absolute_url()).content.decode()
    assert "Approve</button>" not in detail and "盖子破了" in detail  # sales may not approve
    assert client.post(reverse("logistics:return_approve", args=[return_request.pk])).status_code == 403

    client.force_login(clerk)
    detail = client.get(return_request.get_absolute_url()).content.decode()
    assert "Approve</button>" in detail and "Reject" in detail
    assert client.post(reverse("logistics:return_approve", args=[return_request.pk])).status_code == 302
    detail = client.get(return_request.get_absolute_url()).content.decode()
    assert "Receive the goods" in detail
    receive = reverse("logistics:return_receive", args=[return_request.pk])
    rline = return_request.lines.get()
    missing = client.post(receive, with_token({f"outcome_{rline.pk}": "restock", f"warehouse_{rline.pk}": ""}))
    assert missing.status_code == 422 and "Choose the warehouse to restock it in." in missing.content.decode()
    done = client.post(receive, with_token({f"outcome_{rline.pk}": "restock", f"warehouse_{rline.pk}": warehouse.pk}))
    assert done.status_code == 302
    assert ReturnRequest.objects.get().state == ReturnState.RECEIVED
    assert SalesOrderLine.objects.get(pk=line.pk).quantity_returned == 2
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).on_hand == 7

    assert client.post(reverse("logistics:return_close", args=[return_request.pk])).status_code == 302
    assert ReturnRequest.objects.get().state == ReturnState.CLOSED


def test_a_resent_receive_form_receives_once(client, order, clerk, warehouse, tea):
    approved = approved_return(order=order, quantities={order.lines.get().pk: 2}, by=clerk)
    client.force_login(clerk)
    rline = approved.lines.get()
    data = with_token({f"outcome_{rline.pk}": "restock", f"warehouse_{rline.pk}": warehouse.pk})
    receive = reverse("logistics:return_receive", args=[approved.pk])
    assert client.post(receive, data).status_code == 302
    assert client.post(receive, data).status_code == 302  # the same token again: nothing more happens
    assert StockLevel.objects.get(product=tea, warehouse=warehouse).on_hand == 7


def test_rejecting_asks_for_a_reason_first(client, order, clerk):
    opened = return_open(order=order, quantities={order.lines.get().pk: 1}, reason="not_needed", by=clerk)
    client.force_login(clerk)
    url = reverse("logistics:return_reject", args=[opened.pk])
    assert "Reject the return" in client.get(url).content.decode()
    assert client.post(url, {"note": ""}).status_code == 422
    assert ReturnRequest.objects.get().state == ReturnState.REQUESTED
    assert client.post(url, {"note": "Past the return period."}).status_code == 302
    assert ReturnRequest.objects.get().state == ReturnState.REJECTED


def test_another_salesperson_cannot_open_a_return_for_the_order(client_as, order):
    client = client_as("sales")
    assert client.get(reverse("logistics:return_create", args=[order.pk])).status_code == 403
    assert "Open a return" not in client.get(order.get_absolute_url()).content.decode()


def test_the_list_filters_searches_and_exports_what_it_shows(client_as, order, clerk):
    line = order.lines.get()
    first = approved_return(order=order, quantities={line.pk: 1}, by=clerk, reason="damaged")
    second = return_open(order=order, quantities={line.pk: 1}, reason="wrong_item", by=clerk)
    client = client_as("manager")
    page = client.get(reverse("logistics:return_list"), {"state": "approved"}).content.decode()
    assert first.number in page and second.number not in page
    page = client.get(reverse("logistics:return_list"), {"q": second.number}).content.decode()
    assert second.number in page and first.number not in page
    empty = client.get(reverse("logistics:return_list"), {"q": "nothing-like-this"}).content.decode()
    assert "No return matches these filters." in empty

    response = client.get(reverse("logistics:return_export"), {"format": "csv", "reason": "damaged"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Number" and [row[0] for row in rows[1:]] == [first.number]
    assert rows[1][4] == "Damaged in transit"
    response = client.get(reverse("logistics:return_export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted([first.number, second.number])
    assert client.get(reverse("logistics:return_export"), {"format": "pdf"}).status_code == 400


def test_who_may_see_returns(client_as, order, clerk):
    opened = return_open(order=order, quantities={order.lines.get().pk: 1}, reason="defective", by=clerk)
    assert client_as("reviewer").get(reverse("logistics:return_list")).status_code == 403
    assert client_as("reviewer").get(opened.get_absolute_url()).status_code == 403
    assert client_as("reviewer").get(reverse("logistics:return_export")).status_code == 403
    assert client_as("finance").get(opened.get_absolute_url()).status_code == 200
    assert client_as("finance").post(reverse("logistics:return_approve", args=[opened.pk])).status_code == 403


def test_the_return_label_shows_the_number_as_a_barcode_and_chinese_names(client_as, order, clerk):
    approved = approved_return(order=order, quantities={order.lines.get().pk: 2}, by=clerk)
    html = return_label_html(return_request=approved, language="zh-hans")
    assert approved.number in html and "龙井茶 250克" in html and "data:image/svg+xml;base64," in html
    response = client_as("sales").get(reverse("logistics:return_label", args=[approved.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_warehouse_home_shows_returns_to_receive_and_the_customer_page_the_returns(client_as, order, clerk):
    approved = approved_return(order=order, quantities={order.lines.get().pk: 2}, by=clerk)
    home = client_as("warehouse").get(reverse("home")).content.decode()
    assert "Returns to receive" in home and approved.number in home
    customer_page = client_as("sales").get(order.customer.get_absolute_url()).content.decode()
    assert approved.number in customer_page


def test_the_return_list_and_detail_pages_issue_as_many_queries_for_many_returns_as_for_one(
    client_as, order, clerk, tea, warehouse
):
    client = client_as("manager")
    line = order.lines.get()

    def make_returns(n):
        for _i in range(n - ReturnRequest.objects.count()):
            return_open(order=order, quantities={line.pk: 1}, reason="defective", by=clerk)

    assert_constant_queries(make_returns, lambda: client.get(reverse("logistics:return_list")), sizes=(1, 4))
    cup = stocked_product(stock={warehouse: 10}, sku="CUP-002", name="青花瓷茶杯")
    big = shipped_order(lines=[(tea, 2), (cup, 1)], warehouse=warehouse, clerk=clerk)
    few = return_open(order=big, quantities={big.lines.order_by("position").first().pk: 1}, reason="defective", by=clerk)
    many = return_open(order=big, quantities={line.pk: 1 for line in big.lines.all()}, reason="defective", by=clerk)
    assert queries_for(lambda: client.get(few.get_absolute_url())) == queries_for(lambda: client.get(many.get_absolute_url()))

"""The order list: filters, search, sorting, paging, exports, and a query count that does not grow."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache  # noqa: E402
from django.urls import reverse
from django.utils import timezone

from orders.entry.filters import ORDER_AUTHORS_CACHE_KEY  # noqa: E402
from orders.models import OrderStatus, SalesOrder
from orders.tests.factories import CustomerFactory, customer_with_address, draft_order
from tests.downloads import body
from tests.queries import (
    assert_constant_queries,
    queries_for,  # noqa: E402
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

LIST = reverse("orders:list")
EXPORT = reverse("orders:export")


def numbers(response) -> list[str]:
    return [order.number for order in response.context["page_obj"]]


def set_state(order: SalesOrder, state: str) -> None:
    SalesOrder.objects.filter(pk=order.pk).update(status=state)  # fixture shortcut


@pytest.mark.parametrize("role", ["sales", "reviewer", "warehouse", "finance", "manager"])
def test_every_role_sees_all_orders(client_as, make_user, role):
    mine = draft_order(by=make_user("sales"))
    theirs = draft_order(by=make_user("sales"))
    response = client_as(role).get(LIST)
    assert response.status_code == 200
    assert set(numbers(response)) == {mine.number, theirs.number}


def test_a_user_without_a_role_cannot_see_orders(client_as):
    assert client_as().get(LIST).status_code == 403


def test_an_empty_list_explains_itself(client_as):
    body = client_as("sales").get(LIST).content.decode()
    assert "No orders match." in body and "Enter the first order" in body


def test_home_queue_links_keep_working(client_as, make_user):
    client = client_as("sales")
    my_draft = draft_order(by=client.user)
    my_rejected = draft_order(by=client.user)
    set_state(my_rejected, OrderStatus.REJECTED)
    draft_order(by=make_user("sales"))  # someone else's draft
    assert numbers(client.get(LIST, {"status": "draft", "mine": "1"})) == [my_draft.number]
    assert numbers(client.get(LIST, {"status": "rejected", "mine": "1"})) == [my_rejected.number]


def test_filters_narrow_the_list(client_as, make_user):
    client = client_as("sales")
    li, wang = make_user("sales", first_name="Li"), make_user("sales", first_name="Wang")
    acme, _address = customer_with_address(name="Acme Trading", code="ACME01")
    small = draft_order(by=li, customer=acme, address=_address, quantity=1, customer_po="PO-SMALL")
    big = draft_order(by=wang, quantity=50)
    SalesOrder.objects.filter(pk=big.pk).update(channel="web_shop", created_at=timezone.now() - timedelta(days=10))
    set_state(big, OrderStatus.APPROVED)
    assert numbers(client.get(LIST, {"status": "approved"})) == [big.number]
    assert numbers(client.get(LIST, {"salesperson": li.pk})) == [small.number]
    assert numbers(client.get(LIST, {"channel": "web_shop"})) == [big.number]
    assert numbers(client.get(LIST, {"customer": acme.pk})) == [small.number]
    assert numbers(client.get(LIST, {"total_min": "1000"})) == [big.number]
    assert numbers(client.get(LIST, {"total_max": "113.00"})) == [small.number]
    today = timezone.localdate()
    assert numbers(client.get(LIST, {"date_from": today.isoformat()})) == [small.number]
    assert numbers(client.get(LIST, {"date_to": (today - timedelta(days=5)).isoformat()})) == [big.number]


@pytest.mark.parametrize("query", ["PO-SMA", "acme trad", "ACME01", "__number__"])
def test_search_by_number_po_customer_name_or_code(client_as, make_user, query):
    client = client_as("sales")
    acme, address = customer_with_address(name="Acme Trading", code="ACME01")
    wanted = draft_order(by=make_user("sales"), customer=acme, address=address, customer_po="PO-SMALL")
    draft_order(by=make_user("sales"))
    query = wanted.number if query == "__number__" else query
    assert numbers(client.get(LIST, {"q": query})) == [wanted.number]


def test_sorting_by_total_both_ways(client_as, make_user):
    client = client_as("sales")
    orders = [draft_order(by=make_user("sales"), quantity=q) for q in (5, 1, 9)]
    by_total = sorted(orders, key=lambda o: o.total)
    assert numbers(client.get(LIST, {"sort": "total"})) == [o.number for o in by_total]
    assert numbers(client.get(LIST, {"sort": "-total"})) == [o.number for o in reversed(by_total)]
    assert numbers(client.get(LIST, {"sort": "number"})) == sorted(o.number for o in orders)


def test_sorting_by_customer(client_as, make_user):
    client = client_as("sales")
    zeta, za = customer_with_address(name="Zeta Ltd")
    alpha, aa = customer_with_address(name="Alpha Ltd")
    z = draft_order(by=make_user("sales"), customer=zeta, address=za)
    a = draft_order(by=make_user("sales"), customer=alpha, address=aa)
    assert numbers(client.get(LIST, {"sort": "customer"})) == [a.number, z.number]


@pytest.mark.parametrize(
    "params",
    [
        {"total_min": "abc"},
        {"date_from": "yesterday"},
        {"status": "lost"},
        {"customer": "x"},
        {"sort": "password"},
        {"page": "999"},
        {"salesperson": "-1"},
    ],
)
def test_nonsense_filters_are_reported_not_crashed_on(client_as, make_user, params):
    draft_order(by=make_user("sales"))
    response = client_as("sales").get(LIST, params)
    assert response.status_code == 200
    if "page" not in params:
        assert response.context["filter"].errors


def test_the_list_is_paged(client_as, make_user):
    clerk = make_user("sales")
    customer, address = customer_with_address()
    for _ in range(27):
        draft_order(by=clerk, customer=customer, address=address)
    client = client_as("sales")
    first = client.get(LIST)
    assert len(numbers(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert len(numbers(client.get(LIST, {"page": 2}))) == 2


def test_list_queries_do_not_grow_with_orders(client_as, make_user):
    client = client_as("sales")

    def make_orders(n):
        for _ in range(n):
            draft_order(by=make_user("sales"), customer=CustomerFactory(), lines=2)
        cache.delete(ORDER_AUTHORS_CACHE_KEY)  # each measurement reads who entered orders afresh

    assert_constant_queries(make_orders, lambda: client.get(LIST), sizes=(1, 10))


def test_the_salesperson_choices_are_remembered_between_pages(client_as, make_user):
    """Who has entered orders is read once per few minutes, not on every page (it reads every order)."""
    client = client_as("sales")
    author = make_user("sales")
    draft_order(by=author, customer=CustomerFactory())
    cache.delete(ORDER_AUTHORS_CACHE_KEY)
    first = queries_for(lambda: client.get(LIST))
    again = queries_for(lambda: client.get(LIST))
    assert again == first - 1
    assert author.pk in cache.get(ORDER_AUTHORS_CACHE_KEY)


# --- exports ----------------------------------------------------------------------------------


def test_csv_export_has_a_bom_and_exactly_the_filtered_orders(client_as, make_user):
    client = client_as("sales")
    customer, address = customer_with_address(name="上海贸易有限公司", code="SH001")
    wanted = draft_order(by=client.user, customer=customer, address=address, customer_po="=HYPERLINK(1)")
    draft_order(by=make_user("sales"))
    response = client.get(EXPORT, {"format": "csv", "mine": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Number", "Date", "Customer code", "Customer"]
    assert len(rows) == 2
    assert rows[1][0] == wanted.number and rows[1][2:4] == ["SH001", "上海贸易有限公司"]
    assert rows[1][6] == "'=HYPERLINK(1)"  # a formula is written as text
    assert Decimal(rows[1][11]) == wanted.total


def test_xlsx_export_opens_in_excel(client_as, make_user):
    from openpyxl import load_workbook

    client = client_as("finance")
    orders = [draft_order(by=make_user("sales")) for _ in range(3)]
    response = client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response))).active
    values = list(sheet.values)
    assert values[0][0] == "Number"
    assert sorted(row[0] for row in values[1:]) == sorted(o.number for o in orders)


@pytest.mark.parametrize("role", ["reviewer", "warehouse"])
def test_roles_without_the_export_permission_cannot_export(client_as, role):
    assert client_as(role).get(EXPORT, {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("params", [{"format": "pdf"}, {"format": "csv", "total_min": "lots"}])
def test_a_bad_export_request_gets_a_json_error(client_as, params):
    response = client_as("sales").get(EXPORT, params)
    assert response.status_code == 400
    assert response.json()["error"]

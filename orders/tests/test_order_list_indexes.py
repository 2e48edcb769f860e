"""The order list's queries can use an index for every filter and sort (PostgreSQL's EXPLAIN).

A test table is small, so the planner would rightly scan it; with sequential scans switched off
the plan shows whether an index can serve the query at all — what a million orders need."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from orders.entry.filters import SEARCH_IDS_CAP, order_search_matches
from orders.models import OrderStatus, SalesOrder
from orders.review.rules import order_review_queue
from orders.selectors import order_filterset
from orders.tests.factories import customer_with_address, draft_order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_passwords"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans and trigram indexes are PostgreSQL's"),
]


def plan(query: dict, user) -> str:
    request = RequestFactory().get("/orders/", query)
    filterset = order_filterset(data=request.GET, user=user)
    assert not query or filterset.is_valid(), filterset.errors
    page = filterset.qs[:25]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_salesorder")
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        if "q" in query:  # a text search is served by bitmap scans of trigram indexes, not by a walk of the pk
            cursor.execute("SET LOCAL enable_indexscan = off")
    return page.explain()


@pytest.fixture
def orders(make_user):
    """A few thousand orders (copies of one, by SQL), so that a plan is a plan and not a guess."""
    clerk = make_user("sales")
    customer, address = customer_with_address(name="宁波港口物流有限公司")
    order = draft_order(by=clerk, customer=customer, address=address, customer_po="PO-4711")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_salesorder (number, status, customer_id, shipping_address_id, channel, customer_po, notes,
                currency, subtotal, tax_total, total, line_count, created_by_id, created_at, updated_at, version)
            SELECT 'X-' || g, status, customer_id, shipping_address_id, channel, 'PO-' || g, '', currency,
                   g, 0, g, 1, created_by_id, created_at - g * interval '1 hour', updated_at, 1
            FROM orders_salesorder, generate_series(1, 3000) AS g WHERE id = %s
            """,
            [order.pk],
        )
    return clerk


@pytest.mark.parametrize(
    "query",
    [{}, {"sort": "-total"}, {"sort": "total"}, {"date_from": "2026-01-01", "date_to": "2026-01-31"}],
    ids=["newest", "total desc", "total asc", "dates"],
)
def test_each_list_order_comes_from_an_index_not_a_scan_and_sort(orders, query):
    """The first page is read in order from an index: no table scan, no sort of every match."""
    explained = plan(query, orders)
    assert "Seq Scan on orders_salesorder" not in explained, explained
    assert "->  Sort" not in explained, explained


@pytest.mark.parametrize(
    ("query", "index"),
    [({"q": "SO-2026"}, "order_number_trgm"), ({"q": "PO-47"}, "order_po_trgm"), ({"q": "港口物流"}, "customer_name_trgm")],
    ids=["search number", "search PO", "search customer"],
)
def test_each_text_search_uses_its_trigram_index(orders, query, index):
    """The search reads the matching ids with bitmap scans of its trigram indexes (the page then filters on them)."""
    matches = order_search_matches(query["q"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_salesorder")
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    explained = matches[: SEARCH_IDS_CAP + 1].explain()
    assert index in explained, explained
    assert "Seq Scan" not in explained, explained


def test_a_text_search_runs_once_per_page_not_again_for_its_count(orders, client):
    """The matching ids are read once; the page and its count filter on them."""
    client.force_login(orders)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/orders/", {"q": "PO-47"})
    assert response.status_code == 200
    searches = [q["sql"] for q in captured.captured_queries if "LIKE" in q["sql"] and "customer_po" in q["sql"]]
    assert len(searches) == 1, searches
    assert "PO-4711" in response.content.decode()
    on_ids = [q["sql"] for q in captured.captured_queries if '"orders_salesorder"."id" = ANY(' in q["sql"]]
    assert len(on_ids) == 2, captured.captured_queries  # the page and its count, each with the ids as one array


def test_a_text_matching_more_orders_than_the_cap_stays_a_subquery(orders, client, monkeypatch):
    """Past SEARCH_IDS_CAP matches no id list is built: the page and its count carry the search as a subquery."""
    monkeypatch.setattr("orders.entry.filters.SEARCH_IDS_CAP", 10)
    client.force_login(orders)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/orders/", {"q": "PO-"})  # matches every copy
    assert response.status_code == 200
    searches = [q["sql"] for q in captured.captured_queries if "LIKE" in q["sql"] and "customer_po" in q["sql"]]
    assert len(searches) == 3, searches  # the capped id read, then the page and its count with the subquery


def test_the_warehouse_queue_of_approved_orders_can_use_an_index(orders):
    queue = SalesOrder.objects.filter(status=OrderStatus.APPROVED).order_by("approved_at", "pk")[:5]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_salesorder")
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "order_status_queue" in queue.explain()


@pytest.fixture
def orders_by_payment_status(orders):
    """The copies spread over every payment status as billing leaves them: most paid or not invoiced, a few owing."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE orders_salesorder SET payment_status = CASE
                WHEN id % 100 = 0 THEN 'overdue' WHEN id % 100 = 1 THEN 'unpaid' WHEN id % 100 = 2 THEN 'partly_paid'
                WHEN id % 100 = 3 THEN 'refunded' WHEN id % 2 = 0 THEN 'paid' ELSE '' END
            """
        )
    return orders


@pytest.mark.parametrize(
    "query",
    [
        {"payment_status": "overdue"},
        {"payment_status": "refunded"},
        {"payment_status": "unpaid", "date_from": "2026-01-01", "date_to": "2026-01-31"},
        {"payment_status": "overdue", "mine": "on"},
    ],
    ids=["overdue", "refunded", "unpaid in a month", "my overdue"],
)
def test_a_rare_payment_status_reads_its_range_of_the_payment_status_index(orders_by_payment_status, query):
    """A payment status few orders have is a range of the (payment status, newest first) index: its first page
    and its capped count read that range, not the whole table (sorting its few matches is cheap)."""
    explained = plan(query, orders_by_payment_status)
    assert "order_payment_status_newest" in explained, explained
    assert "Seq Scan on orders_salesorder" not in explained, explained
    request = RequestFactory().get("/orders/", query)
    counted = order_filterset(data=request.GET, user=orders_by_payment_status).qs.order_by()[:10001].explain()
    assert "order_payment_status_newest" in counted and "Seq Scan" not in counted, counted


@pytest.mark.parametrize("status", ["paid", "none"], ids=["paid", "not invoiced"])
def test_a_common_payment_status_pages_from_an_index_without_sorting_every_match(orders_by_payment_status, status):
    """Half the orders are paid: the newest ones are found walking an index in order, filtering as it goes."""
    explained = plan({"payment_status": status}, orders_by_payment_status)
    assert "Seq Scan on orders_salesorder" not in explained, explained
    assert "->  Sort" not in explained, explained


def test_the_review_queue_reads_its_partial_index_oldest_submission_first(orders):
    """The reviewers' and managers' homes show the first few orders in review without sorting all of them."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE orders_salesorder SET status = 'in_review', submitted_at = created_at WHERE id % 10 = 0")
        cursor.execute("ANALYZE orders_salesorder")
        cursor.execute("SET LOCAL enable_seqscan = off")
    explained = order_review_queue()[:5].explain()
    assert "order_review_queue" in explained, explained
    assert "->  Sort" not in explained, explained

"""The statements sent on every order: rows_select reads what the ORM reads, hot_cursor's are prepared on
PostgreSQL, and a client that never reads its flash messages does not pile them up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.db.models import BigIntegerField, CharField
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from config.messages import MESSAGES_KEPT, RecentMessagesStorage
from config.outbox import OutboxEvent
from config.rows import any_of, hot_cursor, rows_select, sql_in
from inventory.models import Product, StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, stock_put

ROOT = Path(__file__).resolve().parents[2]
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def columns(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


@pytest.mark.django_db
def test_rows_selected_with_their_related_rows_equal_the_orms():
    products = [ProductFactory() for _ in range(3)]
    open_house, closed = WarehouseFactory(), WarehouseFactory()
    for product in products:
        for warehouse in (open_house, closed):
            stock_put(product=product, warehouse=warehouse, quantity=5)
    type(closed).objects.filter(pk=closed.pk).update(is_active=False)
    wanted = [products[0].pk, products[2].pk]
    matching, params = sql_in(wanted)
    with CaptureQueriesContext(connection) as captured:
        found = rows_select(
            StockLevel, f"t0.product_id {matching} AND t1.is_active", params, related=("warehouse",), tail=" ORDER BY t0.id"
        )
        names = [level.warehouse.name for level in found]
    assert len(captured.captured_queries) == 1  # the warehouses came with the levels
    expected = list(
        StockLevel.objects.filter(product_id__in=wanted, warehouse__is_active=True).select_related("warehouse").order_by("pk")
    )
    assert [columns(level) for level in found] == [columns(level) for level in expected]
    assert names == [open_house.name, open_house.name]
    assert rows_select(StockLevel, "t0.product_id = %s", [products[1].pk + 10_000]) == []


@on_postgresql
@pytest.mark.django_db
def test_a_selection_locks_its_own_rows_and_can_skip_those_another_holds():
    with CaptureQueriesContext(connection) as captured:
        rows_select(OutboxEvent, "t0.id = %s", [0], lock=True)
        rows_select(OutboxEvent, "t0.id = %s", [0], tail=" LIMIT 1", lock=True, skip_locked=True)
    first, second = (query["sql"] for query in captured.captured_queries)
    assert first.rstrip("'").endswith("FOR UPDATE OF t0")
    assert second.rstrip("'").endswith("LIMIT 1 FOR UPDATE OF t0 SKIP LOCKED")


@on_postgresql
def test_a_list_travels_as_one_array_so_the_statement_reads_the_same_for_any_length():
    assert sql_in([3, 1, 2]) == ("= ANY(%s)", [[3, 1, 2]])
    assert sql_in([7])[0] == sql_in(list(range(500)))[0]


@pytest.mark.django_db
def test_any_of_matches_what_in_matches_with_one_parameter():
    products = [ProductFactory() for _ in range(5)]
    wanted = [products[1].pk, products[3].pk, products[4].pk + 10_000]
    with CaptureQueriesContext(connection) as captured:
        found = list(Product.objects.filter(any_of("pk", wanted, BigIntegerField())).order_by("pk"))
        by_sku = list(Product.objects.filter(any_of("sku", [products[0].sku, "没有"], CharField())))
    assert found == list(Product.objects.filter(pk__in=wanted).order_by("pk")) == [products[1], products[3]]
    assert by_sku == [products[0]]
    assert list(Product.objects.filter(any_of("pk", [], BigIntegerField()))) == []
    if connection.vendor == "postgresql":
        assert all("= ANY(" in query["sql"] for query in captured.captured_queries)


@on_postgresql
@pytest.mark.django_db
def test_a_statement_sent_again_and_again_is_planned_once_per_connection():
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5
    sql = "SELECT COUNT(*) FROM config_outboxevent WHERE topic = %s::text"
    for _ in range(8):
        with hot_cursor() as cursor:
            cursor.execute(sql, ["order.hot-statement-test"])
            assert cursor.fetchone() == (0,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert "SELECT COUNT(*) FROM config_outboxevent WHERE topic = $1::text" in prepared


def test_prepared_statements_can_be_turned_off_for_a_pooler_that_drops_them():
    probe = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"

    def threshold(**extra) -> str:
        environment = {name: value for name, value in os.environ.items() if name != "DB_PREPARED_STATEMENTS"}
        environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "postgres://u@db:5432/n", **extra}
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert threshold() == "5"
    assert threshold(DB_PREPARED_STATEMENTS="0") == "None"


@pytest.mark.django_db
def test_messages_nobody_reads_stop_piling_up_after_the_latest_few():
    factory, cookies = RequestFactory(), {}
    session = None
    for n in range(15):  # fifteen posts, each adding two messages, none followed by the page that shows them
        request = factory.post("/")
        request.COOKIES.update(cookies)
        if session is None:
            SessionMiddleware(lambda r: HttpResponse()).process_request(request)
            session = request.session
        request.session = session
        request._messages = storage = RecentMessagesStorage(request)
        messages.info(request, f"saved {n}")
        messages.success(request, f"sent {n}")
        response = HttpResponse()
        storage.update(response)
        cookies.update({name: morsel.value for name, morsel in response.cookies.items()})

    request = factory.get("/")
    request.COOKIES.update(cookies)
    request.session = session
    request._messages = RecentMessagesStorage(request)
    shown = [str(message) for message in get_messages(request)]
    assert len(shown) == MESSAGES_KEPT == 10
    assert shown == [text for n in range(10, 15) for text in (f"saved {n}", f"sent {n}")]  # the latest, in order

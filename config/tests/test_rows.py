"""config.rows writes and reads the same rows the ORM would, with statements built once."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from config.models import WorkerHeartbeat
from config.outbox import OutboxEvent
from config.rows import row_get, row_insert, row_update, rows_fetch, rows_insert_few
from inventory.models import Reservation
from inventory.tests.factories import WarehouseFactory
from orders.models import OrderEvent, SalesOrder, SalesOrderLine, order_lines_with_products
from orders.tests.factories import draft_order

pytestmark = pytest.mark.django_db


def columns(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def test_a_row_inserted_reads_back_as_the_orm_wrote_it(make_user):
    order = draft_order(by=make_user("sales"))
    event = row_insert(
        OrderEvent.build(order, kind=OrderEvent.Kind.NOTE, actor=Actor.of(order.created_by), params={"lines": [1, "二"]})
    )
    assert event.pk is not None and not event._state.adding
    stored = OrderEvent.objects.get(pk=event.pk)
    assert columns(stored) == columns(event)
    assert stored.params == {"lines": [1, "二"]} and stored.at is not None  # JSON and auto_now_add


def test_an_update_writes_only_the_columns_named_and_refuses_a_missing_row(make_user):
    order = draft_order(by=make_user("sales"))
    before = SalesOrder.objects.get(pk=order.pk)
    order.notes = "call first"
    order.customer_po = "not written"
    row_update(order, ["notes", "updated_at"])
    after = SalesOrder.objects.get(pk=order.pk)
    assert after.notes == "call first" and after.customer_po == before.customer_po
    assert after.updated_at > before.updated_at  # auto_now moves, as save(update_fields=…) does

    gone = SalesOrder(pk=order.pk + 10_000)
    with pytest.raises(DatabaseError):
        row_update(gone, ["notes"])


def test_rows_read_with_their_related_rows_equal_the_orms(make_user):
    order = draft_order(by=make_user("sales"), lines=3)
    orm = SalesOrder.objects.select_related("customer", "shipping_address", "contact").get(pk=order.pk)
    with CaptureQueriesContext(connection) as captured:
        found = row_get(SalesOrder, order.pk, related=("customer", "shipping_address", "contact"))
        assert found.customer.name and found.shipping_address.city is not None
        assert found.contact is None  # a null key joins nothing
    assert len(captured.captured_queries) == 1  # the related rows came with it
    assert columns(found) == columns(orm)
    assert columns(found.customer) == columns(orm.customer)
    assert columns(found.shipping_address) == columns(orm.shipping_address)
    assert row_get(SalesOrder, order.pk + 10_000) is None

    lines = order_lines_with_products(order)
    expected = list(SalesOrderLine.objects.filter(order=order).select_related("product").order_by("position", "pk"))
    assert [columns(line) for line in lines] == [columns(line) for line in expected]
    assert [columns(line.product) for line in lines] == [columns(line.product) for line in expected]
    assert all(line.order is order for line in lines)


def test_a_list_is_matched_as_in_and_a_lock_is_taken_on_the_row_only(make_user):
    order = draft_order(by=make_user("sales"), lines=3)
    ids = sorted(order.lines.values_list("pk", flat=True))
    assert [line.pk for line in rows_fetch(SalesOrderLine, where={"id": ids[:2]}, order_by=("id",))] == ids[:2]
    assert rows_fetch(SalesOrderLine, where={"id": []}) == []
    with CaptureQueriesContext(connection) as captured:
        row_get(SalesOrder, order.pk, related=("customer",), lock=True)
    assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE OF t0")


def test_a_few_rows_are_inserted_in_one_statement_with_their_keys_in_order(make_user):
    order = draft_order(by=make_user("sales"), lines=3)
    lines = list(order.lines.order_by("pk"))
    warehouse = WarehouseFactory()
    new = [
        Reservation(order_line=line, product_id=line.product_id, warehouse=warehouse, quantity=i + 1)
        for i, line in enumerate(lines)
    ]
    with CaptureQueriesContext(connection) as captured:
        rows_insert_few(new)
    assert len(captured.captured_queries) == 1
    stored = {r.pk: r for r in Reservation.objects.filter(pk__in=[r.pk for r in new])}
    assert [stored[r.pk].quantity for r in new] == [1, 2, 3]
    assert [stored[r.pk].order_line_id for r in new] == [line.pk for line in lines]
    assert all(stored[r.pk].warehouse_id == warehouse.pk and stored[r.pk].created_at is not None for r in new)


def test_a_model_with_json_columns_goes_through_bulk_create():
    events = rows_insert_few([OutboxEvent(topic="test.a", payload={"n": 1}), OutboxEvent(topic="test.a", payload={"n": 2})])
    assert [OutboxEvent.objects.get(pk=e.pk).payload for e in events] == [{"n": 1}, {"n": 2}]


def test_a_model_whose_saving_does_more_is_saved_through_the_orm():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.worker, created))

    post_save.connect(receiver, sender=WorkerHeartbeat)
    try:
        beat = row_insert(WorkerHeartbeat(worker="w1", last_seen=timezone.now()))
        beat.worker = "w2"
        row_update(beat, ["worker"])
    finally:
        post_save.disconnect(receiver, sender=WorkerHeartbeat)
    assert heard == [("w1", True), ("w2", False)]
    assert WorkerHeartbeat.objects.get(pk=beat.pk).worker == "w2"

"""Writing many rows at once: COPY leaves the rows bulk_create leaves, and copies of a prototype are
the objects the constructor builds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.payments.models import Payment, PaymentEvent, PaymentMethod
from config.actors import Actor
from config.bulk import COPY_FROM_ROWS, objects_like, rows_insert, rows_update
from config.outbox import OutboxEvent
from config.timeline import ActorKind
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("topic", "payload", "attempts", "handled", "last_error", "dispatched_at", "failed_at")


def _events(count: int, topic: str) -> list[OutboxEvent]:
    return [
        OutboxEvent(topic=topic, payload={"n": n, "amount": str(Decimal("12.30") * n), "名称": "甲公司\t\n\\"})
        for n in range(count)
    ]


def test_rows_written_by_copy_are_those_bulk_create_writes():
    count = COPY_FROM_ROWS + 10
    copied = rows_insert(_events(count, "copied"))
    created = OutboxEvent.objects.bulk_create(_events(count, "created"))
    assert [event.pk for event in copied] == sorted(event.pk for event in copied)
    stored = {event.pk: event for event in OutboxEvent.objects.filter(topic="copied")}
    assert set(stored) == {event.pk for event in copied}
    assert all(stored[event.pk].payload == event.payload for event in copied)
    assert all(event.created_at is not None and not event._state.adding for event in copied)
    rows = {
        topic: list(OutboxEvent.objects.filter(topic=topic).order_by("pk").values_list(*COLUMNS[1:]))
        for topic in ("copied", "created")
    }
    assert rows["copied"] == rows["created"] and len(created) == count


def _payments(customer, count: int) -> list[Payment]:
    return [
        Payment(
            number=f"PAY-T-{n:04d}",
            customer=customer,
            date=date(2026, 11, 2),
            amount=Decimal("100.05") + n,
            method=PaymentMethod.BANK_TRANSFER,
            payer_name="上海付款人",
        )
        for n in range(count)
    ]


def test_a_copy_that_breaks_a_constraint_writes_nothing(payment):
    payments = _payments(payment.customer, COPY_FROM_ROWS)
    payments[-1].number = payments[0].number
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(payments)
    assert not Payment.objects.filter(number__startswith="PAY-T-").exists()
    stored = rows_insert(_payments(payment.customer, COPY_FROM_ROWS))
    assert list(Payment.objects.filter(number__startswith="PAY-T-").order_by("pk").values_list("number", "amount", "method")) == [
        (p.number, p.amount, "bank_transfer") for p in stored
    ]


def test_copies_of_a_prototype_are_what_the_constructor_builds(payment):
    actor = Actor.system("import")
    prototype = PaymentEvent.build(payment, kind="", actor=actor)
    copies = objects_like(prototype, [{"kind": "recorded", "params": {"n": 1}}, {"kind": "allocated", "params": {"n": 2}}])
    built = [
        PaymentEvent.build(payment, kind=kind, actor=actor, params={"n": n}) for kind, n in (("recorded", 1), ("allocated", 2))
    ]
    columns = [field.attname for field in PaymentEvent._meta.concrete_fields]
    assert [[getattr(event, name) for name in columns] for event in copies] == [
        [getattr(event, name) for name in columns] for event in built
    ]
    assert copies[0].actor_kind == ActorKind.SYSTEM and copies[0]._state.adding


def test_rows_update_writes_each_rows_own_values():
    events = rows_insert(_events(COPY_FROM_ROWS, "update"))
    for n, event in enumerate(events):
        event.attempts, event.last_error = n, f"错误 {n}" if n % 2 else ""
    assert rows_update(events, ["attempts", "last_error"]) == len(events)
    assert list(OutboxEvent.objects.filter(topic="update").order_by("pk").values_list("attempts", "last_error")) == [
        (n, f"错误 {n}" if n % 2 else "") for n in range(COPY_FROM_ROWS)
    ]


@pytest.fixture
def payment():
    customer = CustomerFactory()
    return Payment.objects.create(
        number="PAY-FIXTURE", customer=customer, date=date(2026, 11, 1), amount=Decimal("10.00"), method="bank_transfer"
    )
